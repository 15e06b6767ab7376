"""The simulated history as table rows: cases, service requests, events, comments and
notifications, written batch by batch with ``tandem.rows.insert_rows``.

Each row carries what the action would have stored: ``submit_request``'s title and
submission digest, ``_move``'s ``is_open`` and ``status_changed_at``, every event's ``data``
(``{"question": …}``, ``{"party": …, "note": ""}``, ``{"comment": id}``…), the comments that
asking, answering and reopening create, and the notifications their on-commit hooks send (for
the last two weeks only, the older ones read, none left for the email digest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import models
from django.utils import timezone

from tandem.demo import samples
from tandem.demo.organisation import DemoOrganisation
from tandem.demo.services import DemoService
from tandem.demo.texts import (
    ADVICE,
    ADVICE_DECLINED,
    CANCEL_REASONS,
    CHASERS,
    NO_REPLY_CANCEL,
    NOTES,
    REMINDERS,
    REOPEN_REASONS,
)
from tandem.engines.auditchain import GENESIS, canonical, event_digest
from tandem.engines.history import KINDS, NONE, STATUSES, History
from tandem.engines.history.model import K, S
from tandem.notifications.models import Notification
from tandem.rows import db_datetimes, insert_rows
from tandem.work.models import Case, Comment, Event, ServiceRequest

_sha256 = hashlib.sha256
BATCH = 20_000  # requests per batch (with their events, comments and notifications)
NOTIFY_DAYS = 14
AUTO_CLOSE_REASON = "reopen window passed"
# Procedure checklists: the agent who resolves a request has ticked its steps just before. Most
# follow the documented order; a few skip a step or swap two; Compliance's reference checks
# often skip the chase (the referees answer first time, so nobody chases).
MARK_SEED = 2026
OFTEN_SKIPPED = ("reference-check", 1, 0.35)  # service, step index, share of requests
SKIP_SHARE, SWAP_SHARE = 0.03, 0.05
OPEN_OR_RESOLVED = frozenset({"new", "assigned", "in_progress", "waiting_requester",
                              "waiting_third_party", "waiting_team", "reopened", "resolved"})
#: Of the requests of a service with ``teams``, one in TEAM_SHARE waits on one of those teams
#: where the simulation has it wait on a third party.
TEAM_SHARE = 3

CASE_COLUMNS = ("id", "customer_reference", "title", "owner", "unit", "status", "created_at",
                "closed_at")
REQUEST_COLUMNS = (
    "id", "service", "unit", "requesting_unit", "confidential", "requester", "case", "channel",
    "title", "intake", "status", "is_open", "assignee", "waiting_on", "waiting_on_unit", "resolution",
    "idempotency_key", "submission_digest", "last_event_seq",
    "submitted_at", "status_changed_at", "due_at", "resolved_at", "closed_at",
    # The demo's units are the provider's own when its history is written: a request's number is
    # its id (``tandem demo --provider`` renumbers the clients' afterwards).
    "number", "reference",
)
REQUEST_TIMES = ("submitted_at", "status_changed_at", "due_at", "resolved_at", "closed_at")
EVENT_COLUMNS = ("id", "request", "seq", "kind", "actor", "at", "from_status", "to_status",
                 "internal", "data", "prev_hash", "hash")
COMMENT_COLUMNS = ("id", "request", "author", "body", "visibility", "addressed_to", "is_advice",
                   "acknowledged_at", "acknowledged_by", "created_at", "advice_outcome", "advice_reason",
                   "advice_decided_at")
NOTIFICATION_COLUMNS = ("recipient", "kind", "request", "message", "created_at", "read_at",
                        "emailed_at")

Row = tuple[Any, ...]


@dataclass
class OrgIds:
    """Database keys of the organisation, by the engine's and the catalogue's indices."""

    unit: list[int]  # by unit index
    person: list[int]  # by engine person index
    person_name: list[str]
    person_unit: list[int]  # the person's unit pk
    service: list[int]  # by service index
    service_unit: list[int]  # the providing unit's pk, by service index
    service_unit_name: list[str]
    # (step pk, position, text) of each service's documented procedure, by service index
    service_steps: list[list[tuple[int, int, str]]] = field(default_factory=list)


@dataclass
class Facts:
    """What the events of one request need to know about it."""

    pk: int
    requester: int
    assignee: int | None
    channel: str
    title: str
    case: int | None
    ctx: dict[str, str]


def when(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def maybe(seconds: int) -> datetime | None:
    return None if seconds == NONE else datetime.fromtimestamp(seconds, tz=UTC)


def next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def load_history(org: DemoOrganisation, history: History, ids: OrgIds, *,
                 report: Callable[[str], None] | None = None, batch: int = BATCH) -> dict[str, int]:
    """Write every case, request, event, comment and recent notification of ``history``."""
    say = report or (lambda message: None)
    writer = Writer(org, history, ids)
    counts = {"cases": insert_rows(Case, CASE_COLUMNS, writer.cases()),
              "requests": 0, "events": 0, "comments": 0, "notifications": 0}
    n = len(history.requests)
    recent_notes: list[Row] = []
    for lo in range(0, n, batch):
        hi = min(lo + batch, n)
        requests, facts = writer.requests(lo, hi)
        events, comments, notes = writer.events(lo, hi, facts)
        counts["requests"] += insert_rows(ServiceRequest, REQUEST_COLUMNS, requests,
                                          prepared=REQUEST_TIMES)
        counts["comments"] += insert_rows(Comment, COMMENT_COLUMNS, comments)
        counts["events"] += insert_rows(Event, EVENT_COLUMNS, events, prepared=("at",))
        recent_notes.extend(notes)
        if n > batch:
            say(f"  loaded {hi:,} of {n:,} requests")
    # Written in the order they were sent, as a live system writes them: the notifications page
    # lists newest first by id.
    sent_at = NOTIFICATION_COLUMNS.index("created_at")
    recent_notes.sort(key=lambda row: row[sent_at])
    counts["notifications"] = insert_rows(Notification, NOTIFICATION_COLUMNS, recent_notes)
    return counts


def _question(service: DemoService, variant: int) -> tuple[str, str]:
    return service.questions[variant % len(service.questions)]


class Writer:
    def __init__(self, org: DemoOrganisation, history: History, ids: OrgIds) -> None:
        self.org, self.history, self.ids = org, history, ids
        self.staff = [p.name for p in org.people]
        self.first_case = next_id(Case)
        self.first_request = next_id(ServiceRequest)
        self.next_event = next_id(Event)
        self.next_comment = next_id(Comment)
        self.end = int(history.end.timestamp())
        self.notify_after = self.end - NOTIFY_DAYS * 86400
        self.zone = timezone.get_default_timezone()
        self.event_starts = np.r_[0, np.cumsum(history.requests.events)]
        self.case_ctx: dict[int, dict[str, str]] = {}
        self.case_reference: dict[int, str] = {}
        self.team_of = self._team_waits()
        self._plan_marks()

    def _plan_marks(self) -> None:
        """Which steps of its procedure each resolved request had ticked, in what order and when:
        just before its standing resolution, spread evenly after the event before it. Arrays for
        every mark at once, so the events loop only copies them out."""
        req, ev, steps = self.history.requests, self.history.events, self.ids.service_steps
        n = len(req)
        self.marks_before: dict[int, tuple[int, int]] = {}  # resolved event index -> marks slice
        self.extra_events = np.zeros(n, dtype=np.int64)
        self.mark_step: list[tuple[int, int, str]] = []
        # Each step's event data, and its canonical JSON (tandem.engines.auditchain).
        self.step_data: dict[tuple[int, int, str], tuple[dict[str, Any], str]] = {}
        for procedure in steps:
            for pk, position, text in procedure:
                data = {"step": pk, "position": position, "text": text}
                self.step_data[(pk, position, text)] = (data, canonical([0, 0, "", None, "", "", "", False, data])
                                                        [len('[0,0,"",null,"","","",false,'):-1])
        if not steps:
            self.mark_stamps: list[Any] = []
            self.mark_chain: list[str] = []
            return
        resolved = np.flatnonzero(ev.kind == KINDS.index("resolved"))
        last = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last, ev.request[resolved], resolved)
        has_steps = np.array([len(x) > 0 for x in steps])
        chosen = np.flatnonzero((last >= 0) & (req.resolved != NONE) & has_steps[req.service])
        draws = np.random.default_rng(MARK_SEED).random((len(chosen), 3)).tolist()
        skipper = [service.slug == OFTEN_SKIPPED[0] for service in self.org.services]
        before = last[chosen]
        counts: list[int] = []
        for g, s, (u_skip, u_where, u_swap) in zip(
                before.tolist(), req.service[chosen].tolist(), draws, strict=True):
            procedure = steps[s]
            order = list(range(len(procedure)))
            if skipper[s] and u_skip < OFTEN_SKIPPED[2]:
                order.remove(OFTEN_SKIPPED[1])
            elif u_skip < SKIP_SHARE:
                del order[int(u_where * len(order))]
            if u_swap < SWAP_SHARE and len(order) >= 2:
                i = int(u_where * (len(order) - 1))
                order[i], order[i + 1] = order[i + 1], order[i]
            self.marks_before[g] = (len(self.mark_step), len(self.mark_step) + len(order))
            self.mark_step += [procedure[i] for i in order]
            counts.append(len(order))
        k = np.asarray(counts, dtype=np.int64)
        self.extra_events[chosen] = k
        # Spread evenly between the event before the resolution and the resolution itself.
        t0, t1 = np.repeat(ev.at[before - 1], k), np.repeat(ev.at[before], k)
        nth = np.arange(len(self.mark_step)) - np.repeat(np.cumsum(k) - k, k) + 1
        times = t0 + (t1 - t0) * nth // np.repeat(k + 1, k)
        seconds = np.asarray(times, dtype=np.int64)
        self.mark_stamps = db_datetimes(seconds)
        self.mark_chain = np.char.add(np.datetime_as_string(
            seconds.astype("datetime64[s]").astype("datetime64[us]"), unit="us"), "+00:00").tolist()

    def _team_waits(self) -> dict[int, int]:
        """Turn some waits on a third party into waits on another back-office team (the
        services' ``teams``), in the history's own arrays so that every later reader agrees.
        Returns the team (unit index) of each request that waits on one."""
        req, ev = self.history.requests, self.history.events
        team_of: dict[int, int] = {}
        for s, service in enumerate(self.org.services):
            if not service.teams:
                continue
            rows = np.flatnonzero(req.service == s)
            for r in rows[rows % TEAM_SHARE == 0].tolist():
                team_of[r] = self.org.unit_index(service.teams[r // TEAM_SHARE % len(service.teams)])
        if not team_of:
            return team_of
        picked = np.zeros(len(req), dtype=bool)
        picked[list(team_of)] = True
        on_picked = np.repeat(picked, req.events)
        third, team = S["waiting_third_party"], S["waiting_team"]
        for column in (ev.from_status, ev.to_status):
            column[on_picked & (column == third)] = team
        ev.kind[on_picked & (ev.kind == K["waiting_third_party"])] = K["waiting_team"]
        req.status[picked & (req.status == third)] = team
        req.waiting_on[picked & (req.waiting_on == 2)] = 3
        return team_of

    def _case_context(self, case: int) -> dict[str, str]:
        if case not in self.case_ctx:
            ctx = samples.context(int(self.history.cases.variant[case]), self.staff)
            ctx["number"] = f"{self.first_case + case:05d}"
            self.case_ctx[case] = ctx
        return self.case_ctx[case]

    def cases(self) -> list[Row]:
        cases, ids = self.history.cases, self.ids
        rows = []
        for i in range(len(cases)):
            kind = self.org.case_kinds[int(cases.bundle[i])]
            reference, title = samples.case_texts(kind, self._case_context(i))
            self.case_reference[i] = reference
            owner, closed = int(cases.owner[i]), int(cases.closed[i])
            rows.append((self.first_case + i, reference, title, ids.person[owner],
                         ids.person_unit[owner], "closed" if closed != NONE else "open",
                         when(int(cases.created[i])), maybe(closed)))
        return rows

    def requests(self, lo: int, hi: int) -> tuple[list[Row], list[Facts]]:
        req, ids, org = self.history.requests, self.ids, self.org
        times = list(zip(*(db_datetimes(x[lo:hi]) for x in (
            req.submitted, req.status_changed, req.due, req.resolved, req.closed)), strict=True))
        columns = [x[lo:hi].tolist() for x in (
            req.service, req.requester, req.channel, req.case, req.submitted, req.status,
            req.assignee, req.events + self.extra_events, req.variant, req.waiting_on, req.waiting_variant,
            req.resolution_variant)]
        rows: list[Row] = []
        facts: list[Facts] = []
        for offset, (s, who, channel, case, submitted, status, assignee, n_events, variant,
                     waiting_on, waiting_variant, resolution_variant) in enumerate(
                         zip(*columns, strict=True)):
            pk = self.first_request + lo + offset
            service = org.services[s]
            ctx = self._case_context(case) if case != NONE else samples.context(variant, self.staff)
            day = when(submitted).astimezone(self.zone).date()
            intake = samples.intake(service, ctx, variant, day)
            channel_name = "external" if channel else "internal"
            case_pk = self.first_case + case if case != NONE else None
            # Requests made for a case keep the default title, as when the requester leaves the
            # title empty in submit_request.
            given = "" if case_pk else samples.title(service, ctx, intake)
            title = (given or (f"{service.name} · {self.case_reference[case]}" if case_pk
                               else service.name))[:200]
            digest = hashlib.sha256(json.dumps(
                [ids.service[s], channel_name, given, case_pk, intake], sort_keys=True,
                separators=(",", ":")).encode()).hexdigest()
            status_name = STATUSES[status]
            waiting, waiting_unit = "", None
            if waiting_on == 1:
                waiting = ids.person_name[who]
            elif waiting_on == 2:
                waiting = str(samples.pick(service.parties, waiting_variant)) or "a third party"
            elif waiting_on == 3:
                team = self.team_of[lo + offset]
                waiting, waiting_unit = org.units[team].name, ids.unit[team]
            resolution = (str(samples.pick(service.resolutions, resolution_variant))
                          if resolution_variant != NONE else "")
            assignee_pk = ids.person[assignee] if assignee != NONE else None
            rows.append((
                pk, ids.service[s], ids.service_unit[s], ids.person_unit[who],
                service.confidential, ids.person[who], case_pk, channel_name, title, intake,
                status_name, status_name in OPEN_OR_RESOLVED, assignee_pk, waiting, waiting_unit, resolution,
                None, digest, n_events, *times[offset], pk, f"SR-{pk:06d}",
            ))
            facts.append(Facts(pk, ids.person[who], assignee_pk, channel_name, title, case_pk, ctx))
        return rows, facts

    def events(self, lo: int, hi: int, facts: list[Facts]) -> tuple[list[Row], list[list[Any]],
                                                                     list[Row]]:
        ev, ids, org = self.history.events, self.ids, self.org
        e_lo, e_hi = int(self.event_starts[lo]), int(self.event_starts[hi])
        services = self.history.requests.service
        events: list[Row] = []
        comments: list[list[Any]] = []
        notes: list[Row] = []
        advice: dict[tuple[int, int], list[Any]] = {}
        stamps = db_datetimes(ev.at[e_lo:e_hi])
        # The hash chain (tandem.engines.auditchain) wants UTC ISO with microseconds.
        chain_times = np.char.add(np.datetime_as_string(
            np.asarray(ev.at[e_lo:e_hi], dtype=np.int64).astype("datetime64[s]").astype(
                "datetime64[us]"), unit="us"), "+00:00").tolist()
        prev, chained, chained_seq, shift = GENESIS, -1, 0, 0
        columns = [x[e_lo:e_hi].tolist() for x in (
            ev.request, ev.seq, ev.kind, ev.actor, ev.at, ev.from_status, ev.to_status, ev.detail,
            ev.ref)]
        for offset, (row, seq, kind, actor, at, frm, to, detail, ref) in enumerate(
                zip(*columns, strict=True)):
            fact = facts[row - lo]
            s = int(services[row])
            service, unit = org.services[s], org.services[s].unit
            name = KINDS[kind]
            actor_pk = ids.person[actor] if actor != NONE else None
            data: dict[str, Any] = {}
            comment: list[Any] | None = None
            addressee: int | None = None
            if name == "submitted":
                data = {"channel": fact.channel, "case": fact.case}
            elif name == "assigned":
                data = {"assignee": ids.person[detail],
                        "previous": ids.person[ref] if ref != NONE else None}
            elif name == "asked_requester":
                question = _question(service, detail)[0]
                data = {"question": question}
                comment = self._comment(fact.pk, actor_pk, question, "shared", fact.requester,
                                        False, at)
            elif name == "information_provided":
                answer = _question(service, detail)[1].format(**fact.ctx)
                comment = self._comment(fact.pk, actor_pk, answer, "shared", fact.assignee,
                                        False, at)
            elif name == "waiting_third_party":
                data = {"party": str(samples.pick(service.parties, detail)) or "a third party",
                        "note": ""}
            elif name == "waiting_team":
                team = self.team_of[row]
                data = {"unit": ids.unit[team], "team": org.units[team].name, "note": ""}
            elif name == "resolved":
                data = {"resolution": str(samples.pick(service.resolutions, detail))}
            elif name == "reopened":
                reason = str(samples.pick(REOPEN_REASONS[unit], detail))
                data = {"reason": reason}
                comment = self._comment(fact.pk, actor_pk, reason, "shared", fact.assignee,
                                        False, at)
            elif name == "cancelled":
                reason = NO_REPLY_CANCEL if ref == 1 else str(samples.pick(CANCEL_REASONS, detail))
                data = {"reason": reason}
            elif name == "closed":
                data = {"reason": AUTO_CLOSE_REASON}
            elif name in ("commented", "note_added", "advice_given"):
                addressee = ids.person[ref] if ref != NONE else None
                if name == "commented":
                    texts = CHASERS if actor_pk == fact.requester else REMINDERS
                    body = str(samples.pick(texts, detail))
                elif name == "note_added":
                    body = str(samples.pick(NOTES[unit], detail))
                else:
                    body = ADVICE[unit]
                comment = self._comment(fact.pk, actor_pk, body,
                                        "internal" if name == "note_added" else "shared",
                                        addressee, name == "advice_given", at)
                data = {"comment": comment[0]}
                if name == "advice_given":
                    advice[(row, seq)] = comment
            elif name in ("advice_acknowledged", "advice_accepted", "advice_declined"):
                # The answer's fields on the advice, as the actions set them (deciding is also
                # acknowledging).
                given = advice[(row, ref)]
                given[7], given[8] = when(at), actor_pk  # acknowledged_at, acknowledged_by
                data = {"comment": given[0]}
                if name != "advice_acknowledged":
                    given[10], given[12] = name.removeprefix("advice_"), when(at)
                if name == "advice_declined":
                    given[11] = data["reason"] = ADVICE_DECLINED[unit]
            if comment is not None:
                comments.append(comment)
            if fact.pk != chained:
                prev, chained, chained_seq, shift = GENESIS, fact.pk, 0, 0
            if seq + shift != chained_seq + 1:
                raise ValueError(f"events of request {fact.pk} are not in seq order")
            marks = self.marks_before.get(e_lo + offset)
            if marks is not None:  # the procedure's steps, ticked just before the resolution
                actor_json = "null" if actor_pk is None else str(actor_pk)
                for m in range(*marks):
                    step, step_json = self.step_data[self.mark_step[m]]
                    # event_digest's canonical JSON, put together from the step's own (encoded
                    # once per step): the marks are a third of the demo's events.
                    digest = _sha256(f'{prev}[{fact.pk},{seq + shift},"step_done",{actor_json},'
                                     f'"{self.mark_chain[m]}","","",false,{step_json}]'.encode()).hexdigest()
                    events.append((self.next_event, fact.pk, seq + shift, "step_done", actor_pk,
                                   self.mark_stamps[m], "", "", False, step, prev, digest))
                    prev, shift = digest, shift + 1
                    self.next_event += 1
            from_name = STATUSES[frm] if frm != NONE else ""
            to_name = STATUSES[to] if to != NONE else ""
            internal = name == "note_added"
            digest = event_digest(prev, (fact.pk, seq + shift, name, actor_pk, chain_times[offset],
                                         from_name, to_name, internal, data))
            events.append((self.next_event, fact.pk, seq + shift, name, actor_pk, stamps[offset],
                           from_name, to_name, internal, data, prev, digest))
            prev, chained_seq = digest, seq + shift
            self.next_event += 1
            if at >= self.notify_after:
                note = self._notification(name, fact, ids.service_unit_name[s], actor, actor_pk,
                                          at, addressee)
                if note is not None:
                    notes.append(note)
        return events, comments, notes

    def _comment(self, request: int, author: int | None, body: str, visibility: str,
                 addressed_to: int | None, is_advice: bool, at: int) -> list[Any]:
        row = [self.next_comment, request, author, body, visibility, addressed_to, is_advice,
               None, None, when(at), "", "", None]
        self.next_comment += 1
        return row

    def _notification(self, name: str, fact: Facts, unit_name: str, actor: int,
                      actor_pk: int | None, at: int, addressee: int | None) -> Row | None:
        """What the actions' on-commit hooks would have told people about a recent event."""
        who = self.ids.person_name[actor] if actor != NONE else "Tandem"
        reference = f"SR-{fact.pk:06d}"
        recipient, kind, message = None, "", ""
        if name == "assigned" and fact.assignee and fact.assignee != actor_pk:
            recipient, kind = fact.assignee, "assigned"
            message = f"{who} gave you {reference}: {fact.title}"
        elif name == "asked_requester":
            recipient, kind = fact.requester, "information_needed"
            message = f"{unit_name} needs information from you on {reference}"
        elif name == "information_provided" and fact.assignee:
            recipient, kind = fact.assignee, "information_provided"
            message = f"{who} answered on {reference}"
        elif name == "resolved":
            recipient, kind = fact.requester, "resolved"
            message = f"{reference} is resolved: accept it or reopen it"
        elif name == "reopened" and fact.assignee:
            recipient, kind, message = fact.assignee, "reopened", f"{who} reopened {reference}"
        elif name in ("commented", "advice_given") and addressee and addressee != actor_pk:
            recipient, kind = addressee, "advice" if name == "advice_given" else "comment"
            message = f"{who} wrote to you on {reference}"
        if recipient is None:
            return None
        created = when(at)
        # The older ones have been read; the email digest has nothing left to send in bulk.
        read = None
        if at < self.end - 2 * 86400 or at % 3 == 0:
            read = created + timedelta(hours=2 + at % 20)
            if read.timestamp() > self.end:
                read = None
        return (recipient, kind, fact.pk, message[:300], created, read, created)
