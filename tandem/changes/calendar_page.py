"""The calendar page, ready to show: each audience's row of weeks as HTML, and each proposal's
texts.

The page shows 30 audiences × 13 weeks (390 cells) and up to 50 proposals. Written in the
template, with its conditions, filters and URL tags, they took about as long as computing the
whole calendar; so each cell is written here, once, as plain strings, and each proposal's dates
and links are worked out here (the template only places them). Every text that comes from people (titles, names,
reasons) goes through ``escape`` (the standard library's, which escapes the same five characters
as Django's); the numbers are ints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from tandem.changes.models import Status
from tandem.changes.queries import Calendar, ChangeBrief, Proposal, Row

#: Proposals the page details (the API has them all).
PROPOSALS_SHOWN = 50
#: The longest title a cell shows in full (the others end in an ellipsis; every title is on hover).
TITLE_CHARS = 28


@dataclass
class GridRow:
    slug: str
    name: str
    limit: int
    batching: bool
    cells: SafeString


def grid(cal: Calendar, change_base: str) -> list[GridRow]:
    """Each row of the calendar with its cells written out."""
    base = escape(change_base)
    return [GridRow(row.unit.slug, row.unit.name, row.limit, row.batching,
                    mark_safe("".join(_cell(c, row, base) for c in row.cells)))  # noqa: S308 (escaped in _cell)
            for row in cal.rows]


def short(title: str) -> str:
    """A title as a cell shows it (as Django's ``truncatechars`` filter would)."""
    return Truncator(title).chars(TITLE_CHARS) if len(title) > TITLE_CHARS else title


def _cell(c: dict[str, Any], row: Row, base: str) -> str:
    minutes, limit = int(c["minutes"]), int(row.limit)
    parts = [f'<td class="{escape(c["css"])}" data-week="{escape(c["iso"])}" data-count="{int(c["count"])}" '
             f'data-minutes="{minutes}" data-role="{escape(c["role"])}">']
    if c["count"]:
        parts.append(f'<span class="load">{int(c["count"])} · {minutes}/{limit} min</span>')
        if c["for_role"]:
            parts.append(f' <span class="small muted" data-testid="for-role">(its {escape(c["for_role"])})</span>')
        parts.append(f'<meter class="load-meter" min="0" max="{limit}" high="{limit}" value="{minutes}" '
                     'aria-hidden="true"></meter>')
        for ch in c["changes"]:
            parts.append(f'<a class="small" href="{base}{int(ch["id"])}/">{escape(short(ch["title"]))}</a>')
            if ch["for"]:
                parts.append(f' <span class="small muted">({escape(ch["for"])})</span>')
            parts.append("<br>")
        if c["more"]:
            parts.append(f'<span class="small" title="{escape(c["tip"])}">+{int(c["more"])} more</span><br>')
        if c["hidden"]:
            hidden = int(c["hidden"])
            parts.append(f'<span class="small muted">+{hidden} draft{"" if hidden == 1 else "s"}</span><br>')
        parts.extend(f'<span class="small warn">⚠ {escape(r)}</span><br>' for r in c["clashes"])
    else:
        parts.append('<span class="muted">—</span>')
    if c["context"]:
        parts.append(f'<div class="context">{escape(c["context"])}</div>')
    parts.append("</td>")
    return "".join(parts)


@dataclass
class ProposalRow:
    pk: int
    href: str
    title: str
    meta: str
    lands: str
    reasons: SafeString
    plan_iso: str
    plan_text: str
    late: bool
    unplaceable: bool
    slots: str
    stages: str
    stage_values: list[str]
    may_stage: bool


@dataclass
class Named:
    href: str
    title: str


def day(d: date) -> str:
    """As the page writes a day: "Mon 7 Dec"."""
    return f"{d:%a} {d.day} {d:%b}"


def short_day(d: date) -> str:
    """As the page writes a day in a list: "7 Dec"."""
    return f"{d.day} {d:%b}"


def proposal_rows(cal: Calendar, change_base: str, owned_unit_ids: set[int]) -> list[ProposalRow]:
    """The first ``PROPOSALS_SHOWN`` proposals as the page shows them (``owned_unit_ids``: the
    units whose changes the reader manages, who may accept a staging)."""
    statuses = dict(Status.choices)
    return [_proposal_row(p, change_base, owned_unit_ids, statuses) for p in cal.proposals[:PROPOSALS_SHOWN]]


def _proposal_row(p: Proposal, base: str, owned: set[int], statuses: dict[str, str]) -> ProposalRow:
    c = p.change
    return ProposalRow(
        pk=c.pk, href=f"{base}{c.pk}/", title=c.title,
        meta=f"{c.unit_name} · {c.minutes} min/person · {statuses.get(c.status, c.status)}",
        lands=day(c.effective_on),
        reasons=mark_safe("<br>".join(escape(r) for r in p.reasons)),  # noqa: S308 (each escaped)
        plan_iso=p.plan_on.isoformat() if p.plan_on else "", plan_text=day(p.plan_on) if p.plan_on else "",
        late=p.late, unplaceable=p.unplaceable,
        slots=", ".join(short_day(d) for d in p.slots) or "none",
        stages="; ".join(f"{u.name} {short_day(d)}" for u, d in p.stages) if p.stages else "",
        stage_values=[f"{u.slug}:{d.isoformat()}" for u, d in p.stages] if p.stages else [],
        may_stage=c.unit_id in owned,
    )


def named(changes: list[ChangeBrief], change_base: str) -> list[Named]:
    """Changes named in a sentence (late, or with no room), each with its link."""
    return [Named(f"{change_base}{c.pk}/", c.title) for c in changes]
