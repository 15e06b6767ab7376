# The search documents, the database's full-text index over them, and the backfill.

import django.db.models.deletion
from django.db import migrations, models

# SQLite: an FTS5 table whose content is the documents table, kept in step by its triggers.
SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(heading, requester, payload, internal, "
    "content='search_searchdocument', content_rowid='request_id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN "
    "INSERT INTO search_fts(rowid, heading, requester, payload, internal) "
    "VALUES (new.request_id, new.heading, new.requester, new.payload, new.internal); END",
    "CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, heading, requester, payload, internal) "
    "VALUES ('delete', old.request_id, old.heading, old.requester, old.payload, old.internal); END",
    "CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, heading, requester, payload, internal) "
    "VALUES ('delete', old.request_id, old.heading, old.requester, old.payload, old.internal); "
    "INSERT INTO search_fts(rowid, heading, requester, payload, internal) "
    "VALUES (new.request_id, new.heading, new.requester, new.payload, new.internal); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TABLE IF EXISTS search_fts",
]
# PostgreSQL: a stored tsvector, weighted by column (A heading ... D internal notes), and GIN.
POSTGRES = [
    "ALTER TABLE search_searchdocument ADD COLUMN vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', requester), 'B') || "
    "setweight(to_tsvector('english', payload), 'C') || setweight(to_tsvector('english', internal), 'D')"
    ") STORED",
    "CREATE INDEX search_document_vector ON search_searchdocument USING GIN (vector)",
]


def full_text_index(apps, schema_editor):
    statements = SQLITE if schema_editor.connection.vendor == "sqlite" else POSTGRES
    for sql in statements:
        schema_editor.execute(sql)


def drop_full_text_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_REVERSE:
            schema_editor.execute(sql)
    # PostgreSQL: the column and its index go with the table.


def backfill(apps, schema_editor):
    from tandem.search.documents import index_missing

    index_missing(apps)


class Migration(migrations.Migration):

    initial = True
    atomic = False  # the backfill commits batch by batch: a million requests take minutes

    dependencies = [
        ('work', '0011_request_runs'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='work.servicerequest')),
                ('heading', models.TextField()),
                ('requester', models.TextField()),
                ('payload', models.TextField(blank=True)),
                ('internal', models.TextField(blank=True)),
                ('indexed_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'search document',
            },
        ),
        migrations.RunPython(full_text_index, drop_full_text_index),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
