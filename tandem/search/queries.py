"""Finding requests: one entry, ``search_requests(user, text, page)``, for the page and the API.

What may be found follows the request lists exactly, because every part of the search starts
from their permission-aware entries (``tandem.work.queries``):

- by its reference, title and requester: the requests the person may see
  (``requests_visible_to``);
- by its intake values, the comments both sides read and its resolution: the requests whose
  payload the person may read (``requests_with_payload_visible_to``): an executive never finds
  a confidential request by the words of its payload, as no list shows them those words;
- by its internal notes: the requests of the units whose queue the person works (administrators:
  all), the only people the request page shows internal notes to.

Each of these is one match in its columns over its requests; a request found by several keeps
its best score. A reference (``SR-000123``) is looked up exactly, through the same entry.

Each match also names the **access keys** the person holds for its group (``_tiers``): the
units whose queue they work; their own requests, those they approve, their unit's and their
cases' (the keys of ``tandem.search.documents``). The full-text index then walks only the
documents holding one of them, instead of every match of a word that is common in other teams' requests; the
permission-aware queryset still decides, so the keys can only ever leave out, never let in.
Administrators and executives hold no keys: they see (nearly) every match anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

from tandem.engines.textsearch import Query, QueryError, parse_query, snippet
from tandem.org.models import Organisation, Person
from tandem.org.queries import (
    AnyUser,
    client_unit_ids,
    organisation_id_of,
    person_of,
    provider_admin,
    sees_everything,
    work_unit_ids,
)
from tandem.refusal import Invalid
from tandem.search.backends import COLUMNS, matching, newest_matches, search_transaction
from tandem.search.documents import approver_key, asker_key, case_key, from_key, unit_key
from tandem.search.models import SearchDocument
from tandem.work import numbering
from tandem.work.models import Case, ServiceRequest
from tandem.work.queries import requests_visible_to, requests_with_payload_visible_to

PAGE_SIZE = 25
#: Search pages stop here: past 20 pages, better words find it sooner.
MAX_PAGE = 20
#: The matches ranked: the newest this many a person may see for each group of columns. Ranking
#: every match of a common word costs seconds at a million requests (every match scored); the
#: newest 500 are as many as the 20 pages of 25 can show, and what a person looking for a
#: request nearly always means.
CANDIDATES = MAX_PAGE * PAGE_SIZE
ALL, PUBLIC, BASIC = COLUMNS, COLUMNS[:3], COLUMNS[:2]
#: A person owning more cases than this searches their requests without the access keys (one
#: key per case would make a long query): slower, never wrong.
MAX_CASE_KEYS = 500
_ROW_RELATED = ("service", "unit", "requesting_unit", "requester__user", "assignee__user")
_WHERE = {"payload": "Intake or comments", "internal": "Internal note"}


@dataclass
class Hit:
    request: ServiceRequest
    title: SafeString
    requester: SafeString
    #: A window of the payload or the internal notes around the words found, if found there.
    snippet: SafeString | None = None
    found_in: str = ""


@dataclass
class Results:
    text: str
    page: int = 1
    hits: list[Hit] = field(default_factory=list)
    has_next: bool = False
    #: The text was a reference, looked up exactly.
    reference: bool = False
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """The number of the page's first result, counting from 1."""
        return (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.hits) - 1


#: The columns a group of requests may be found by, the group, and the access keys that narrow
#: the index to it (None: every match, for people who see nearly all).
Tier = tuple[tuple[str, ...], QuerySet[ServiceRequest], tuple[str, ...] | None]


def _own_keys(person: Person) -> tuple[str, ...] | None:
    """The keys of the requests a person sees without working them (``requests_visible_to``):
    their own, those they approve, their unit's and their cases' that are not confidential.
    None when they own too many cases to name."""
    cases = list(Case.objects.filter(owner=person).order_by().values_list("pk", flat=True)[:MAX_CASE_KEYS + 1])
    if len(cases) > MAX_CASE_KEYS:
        return None
    return (asker_key(person.pk), approver_key(person.pk), from_key(person.unit_id),
            *(case_key(pk) for pk in sorted(cases)))


def _tiers(user: AnyUser | None) -> list[Tier]:
    """The columns each group of requests may be found by, widest first."""
    person = person_of(user)
    visible = requests_visible_to(user)
    if person is None:
        return []
    if provider_admin(person):
        return [(ALL, visible, None)]
    tiers: list[Tier] = []
    worked = work_unit_ids(person)
    payload = requests_with_payload_visible_to(user)
    if worked:
        tiers.append((ALL, visible.filter(unit_id__in=worked), tuple(unit_key(pk) for pk in sorted(worked))))
        payload = payload.exclude(unit_id__in=worked)
    organisation_id = organisation_id_of(person)
    if sees_everything(person) and organisation_id is None:
        # the provider's executives: the path of every request, its payload not always
        tiers += [(PUBLIC, payload, None), (BASIC, visible, None)]
    elif sees_everything(person) and organisation_id is not None:
        # a client's executive: their organisation's requests only. The keys of its units
        # narrow the index to them (a client's keys never match another client's documents);
        # a confidential request of theirs carries no unit key, so its path is found through
        # the scoped list itself, which the words' matches are joined with.
        own = _own_keys(person)
        units = tuple(from_key(pk) for pk in sorted(client_unit_ids(organisation_id)))
        tiers += [(PUBLIC, payload, None if own is None else (*own, *units)), (BASIC, visible, None)]
    else:
        tiers.append((PUBLIC, payload, _own_keys(person)))
    return tiers


def _mark(text: str, query: Query | None = None) -> SafeString:
    """The text escaped, with the query's words marked."""
    marked = snippet(text, query.words, width=10_000) if query else None
    return mark_safe(marked or escape(text))  # noqa: S308 (escaped above)


def _reference(user: AnyUser | None, text: str) -> str | None:
    """The reference the text names (``sr-42`` → ``SR-000042``), when its prefix is one this
    person's requests may carry: a client's person only their organisation's (so that typing
    another client's name tells them nothing), the provider's people ``SR`` and every client's.
    Any other text is searched for as words."""
    parsed = numbering.parse(text)
    person = person_of(user)
    if parsed is None or person is None:
        return None
    organisation_id = organisation_id_of(person)
    if organisation_id is None:
        slugs = Organisation.objects.values_list("slug", flat=True)
        prefixes = {numbering.PROVIDER_PREFIX, *(s.upper() for s in slugs)}
    else:
        prefixes = {s.upper() for s in Organisation.objects.filter(pk=organisation_id).values_list("slug", flat=True)}
    return numbering.reference_for(*parsed) if parsed[0] in prefixes else None


def search_requests(user: AnyUser | None, text: str, *, page: int = 1, size: int = PAGE_SIZE) -> Results:
    """The requests this user may find by ``text``, best first, a page at a time. Refuses
    (``Invalid``, naming ``q``) an empty, over-long or punctuation-only text. Its statements run
    in one transaction (``search_transaction``)."""
    page = min(max(page, 1), MAX_PAGE)
    with search_transaction() as top:
        reference = _reference(user, text)
        if reference is not None:
            found = requests_visible_to(user).filter(reference=reference).select_related(*_ROW_RELATED).first()
            hits = [Hit(found, _mark(found.title), _mark(found.requester.display_name))] if found else []
            return Results(text=text.strip(), hits=hits if page == 1 else [], reference=True)
        try:
            query = parse_query(text)
        except QueryError as refusal:
            raise Invalid(str(refusal), errors={"q": [str(refusal)]}) from refusal
        return _ranked(user, query, page, size, top)


def _ranked(user: AnyUser | None, query: Query, page: int, size: int, top: int | None) -> Results:
    wanted = page * size + 1
    best: dict[int, tuple[float, int]] = {}  # request id -> (score, tier)
    tiers = _tiers(user)
    matched = [newest_matches(matching(qs.order_by(), query, columns, keys), CANDIDATES, top)
               for columns, qs, keys in tiers]
    # At equal relevance, open requests before finished ones, then the newest: whether each is
    # open comes with its match.
    still_open = {pk for rows in matched for pk, _, is_open in rows if is_open}

    def rank(pk: int, score: float) -> tuple[float, bool, int]:
        # Scores equal to six significant digits are equally relevant (floating-point noise
        # aside; not decimals: a word in most documents scores about a millionth in FTS5).
        return (float(f"{score:.6g}"), pk not in still_open, -pk)

    for index, rows in enumerate(matched):
        for pk, score, _ in sorted(rows, key=lambda row: rank(row[0], row[1]))[:wanted]:
            earlier = best.get(pk)  # found already by a wider tier: it keeps that tier's columns
            best[pk] = (min(score, earlier[0]), earlier[1]) if earlier else (score, index)
    ordered = sorted(best, key=lambda pk: rank(pk, best[pk][0]))
    chosen = ordered[(page - 1) * size: page * size]
    requests = ServiceRequest.objects.select_related(*_ROW_RELATED).in_bulk(chosen)
    # The passages come from the form, comments and notes of the hits found by them only.
    passages = [pk for pk in chosen if len(tiers[best[pk][1]][0]) > 2]
    documents = SearchDocument.objects.only("payload", "internal").in_bulk(passages) if passages else {}
    hits = []
    for pk in chosen:
        sr, document = requests[pk], documents.get(pk)
        hit = Hit(sr, _mark(sr.title, query), _mark(sr.requester.display_name, query))
        if document is not None:
            for column in tiers[best[pk][1]][0][2:]:
                window = snippet(getattr(document, column), query.words)
                if window:
                    hit.snippet, hit.found_in = mark_safe(window), _WHERE[column]  # noqa: S308 (escaped)
                    break
        hits.append(hit)
    return Results(text=query.text, page=page, hits=hits, has_next=len(ordered) > page * size and page < MAX_PAGE,
                   size=size)
