"""The search index's documents: one row per service request, its words in four columns by who
may read them. The full-text index over them is the database's own (docs/search.md):

- SQLite: an FTS5 table, ``search_fts``, with this table as its external content, kept in step
  by triggers on this table;
- PostgreSQL: a stored ``vector`` column (tsvector, generated from the four columns with the
  weights A–D) and a stored ``access_vector`` (the access keys, ``simple`` configuration), with
  one GIN index over both.

The access keys are a fifth FTS5 column on SQLite and their own tsvector on PostgreSQL, so they
never weigh in a rank nor show in a snippet. The indexes are created by migrations search 0001
and 0002; the model does not declare them, so that one model serves both databases."""

from __future__ import annotations

from django.db import models

from tandem.work.models import ServiceRequest


class SearchDocument(models.Model):
    """What a request can be found by. The columns follow the request's reading rules:

    - ``heading`` (reference and title) and ``requester``: whoever sees the request;
    - ``payload`` (intake values, comments both sides read, the resolution): whoever may read its
      payload (executives not, on a confidential request);
    - ``internal`` (internal notes): the providing unit and administrators."""

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    heading = models.TextField()
    requester = models.TextField()
    payload = models.TextField(blank=True)
    internal = models.TextField(blank=True)
    #: Who may see the request, as hidden words (``tandem.search.documents.access_keys``). The
    #: database default serves a release without the keys still writing documents during an
    #: upgrade: such a document is found by administrators and executives only until
    #: ``tandem search-index`` gives it its keys.
    access = models.TextField(blank=True, default="", db_default="")
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "search document"

    def __str__(self) -> str:
        return self.heading[:80]
