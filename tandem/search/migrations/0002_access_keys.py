# The access keys: a fifth column of the documents, written from the requests, indexed apart
# from the words (a fifth FTS5 column on SQLite; a tsvector of their own on PostgreSQL, in the
# same GIN index as the words), so that a search narrows to what the person may see first.
#
# SQLite cannot add a column to an FTS5 table: the index is dropped before the documents table
# changes (adding a NOT NULL column remakes it, which would drop the triggers) and built again
# from the documents afterwards (about a minute per 300,000 documents on this machine).

from django.db import migrations, models

OLD = ("heading", "requester", "payload", "internal")
NEW = (*OLD, "access")


def _sqlite_index(columns):
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.request_id, {old}); "
    insert = f"INSERT INTO search_fts(rowid, {names}) VALUES (new.request_id, {new}); "
    return [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, content='search_searchdocument', "
        "content_rowid='request_id', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN {insert}END",
        f"CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN {delete}END",
        f"CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument BEGIN {delete}{insert}END",
        "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES = [
    "ALTER TABLE search_searchdocument ADD COLUMN access_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, access)) STORED",
    "DROP INDEX IF EXISTS search_document_vector",
    "CREATE INDEX search_document_vector ON search_searchdocument USING GIN (vector, access_vector)",
    "ANALYZE search_searchdocument",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS search_document_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS access_vector",
    "CREATE INDEX search_document_vector ON search_searchdocument USING GIN (vector)",
]


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql)


def drop_sqlite_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)


def restore_sqlite_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, _sqlite_index(OLD))


def write_access(apps, schema_editor):
    from tandem.search.documents import write_access

    write_access(apps)


def index_access(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, _sqlite_index(NEW))
    else:
        _run(schema_editor, POSTGRES)


def unindex_access(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)
    else:
        _run(schema_editor, POSTGRES_REVERSE)


class Migration(migrations.Migration):

    atomic = False  # the keys are written batch by batch: a million documents take minutes

    dependencies = [
        ('search', '0001_initial'),
        ('work', '0015_approvals'),  # the approver is a key
    ]

    operations = [
        migrations.RunPython(drop_sqlite_index, restore_sqlite_index),
        migrations.AddField(
            model_name='searchdocument',
            name='access',
            field=models.TextField(blank=True, db_default='', default=''),
        ),
        migrations.RunPython(write_access, migrations.RunPython.noop),
        migrations.RunPython(index_access, unindex_access),
    ]
