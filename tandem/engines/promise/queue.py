"""Inter-case (queue) features of an event log, computed causally and vectorised.

At the instant t of a prefix's k-th event, from the events of every case with a timestamp at or before t:

- **work in progress**: cases started and not yet ended; in total, at the prefix's current activity, and
  with the prefix's last resource (the cases whose latest event was by that resource);
- **throughput**: cases that ended in the last 1, 5 and 20 days;
- **drain time**: the work in progress divided by the 20-day throughput per day (missing when nothing
  ended in those 20 days: LightGBM reads a missing value as such, never as a made-up number);
- **resources active** in the last 7 days (distinct resources with an event);
- **hours to the next opening**: 0 when the hour of the week is one in which the fitting cases had
  events, else the hours until the next such hour (UTC).

When does a case end? Learnt from the fitting cases only: an activity (with its lifecycle, where the
log has several) ends a case when at least half of its occurrences are the last event of their case
(the *end activities*). A case that falls silent for longer than the fitting cases' 99th percentile gap
between two events also counts as ended at that moment (otherwise an abandoned case would stay in the
work in progress for ever). A case's state changes only at its own events and at those time-outs, all
at or before t, so a feature never changes when later events are removed from the log.

Each case is "open" on half-open intervals [event time, min(next event of the case, event time +
time-out)) after every event that does not end it, so every count above is a count of intervals that
contain t: sorted starts and ends and two ``searchsorted`` calls (per group, with a combined key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tandem.engines.eventlog import EventLog
from tandem.engines.eventlog.model import RESOURCE

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
END_SHARE = 0.5  # an activity ends a case when at least this share of its occurrences are a case's last event
SILENCE_QUANTILE = 0.99  # of the gaps between consecutive events of a fitting case: a longer silence ends it
MIN_SILENCE_US = 60_000_000  # one minute: the time-out is never shorter (a log of instant cases)
THROUGHPUT_DAYS = (1, 5, 20)
ACTIVE_DAYS = 7
OPEN_SHARE = 0.1  # an hour of the week is "open" when it holds at least this share of the mean hour's events
NAMES = ("wip", "wip_activity", "wip_resource", "done_1d", "done_5d", "done_20d", "drain_days",
         "resources_active_7d", "hours_to_open")
# Computed (the drain time and the per-attribute counts are built on them) but not given to the model: left
# out one group at a time on three origins of the three shared logs, the work-in-progress counts changed
# the MAE by less than 0.011 days either way (docs/promises.md); a count grows with the process's volume,
# the drain time is the same queue on a scale that does not.
NOT_USED = ("wip", "wip_activity", "wip_resource")


@dataclass
class QueueSpec:
    """What the fitting cases taught about ends and opening hours, so a saved model maps any log the same way."""

    end_tokens: list[str]  # token names (activity or "activity|lifecycle") that end a case
    silence_us: int  # a case silent this long counts as ended
    open_hours: list[bool]  # 168 hours of the week, Monday 00:00 UTC first
    resources: bool  # the per-resource columns exist
    notes: list[str] = field(default_factory=list)  # fallbacks taken, said in the output

    @property
    def computed_names(self) -> list[str]:
        """The columns :func:`queue_features` returns."""
        skip = set() if self.resources else {"wip_resource", "resources_active_7d"}
        return [f"queue:{n}" for n in NAMES if n not in skip]

    @property
    def names(self) -> list[str]:
        """The columns the model reads."""
        return [n for n in self.computed_names if n.removeprefix("queue:") not in NOT_USED]

    def to_dict(self) -> dict:
        return {"end_tokens": self.end_tokens, "silence_us": self.silence_us, "open_hours": self.open_hours,
                "resources": self.resources, "notes": self.notes}

    @classmethod
    def from_dict(cls, d: Mapping) -> QueueSpec:
        return cls(list(d["end_tokens"]), int(d["silence_us"]), [bool(x) for x in d["open_hours"]],
                   bool(d["resources"]), list(d.get("notes", [])))


def hour_of_week(t_us: np.ndarray) -> np.ndarray:
    hours = t_us // US_PER_HOUR
    return ((hours // 24 + 3) % 7) * 24 + hours % 24  # 1970-01-01 was a Thursday (Monday = 0)


def learn_queue(log: EventLog, token: np.ndarray, token_names: list[str]) -> QueueSpec:
    """From the fitting cases (``log`` holds only them; ``token`` a code per event into ``token_names``)."""
    bounds = log.case_bounds()
    last = np.zeros(len(log), dtype=bool)
    last[bounds[1:] - 1] = True
    seen = np.bincount(token, minlength=len(token_names))
    ended = np.bincount(token[last], minlength=len(token_names))
    share = ended / np.maximum(seen, 1)
    ends = [token_names[i] for i in np.flatnonzero((share >= END_SHARE) & (ended >= 2)).tolist()]
    same_case = np.r_[log.case.codes[1:] == log.case.codes[:-1], False]
    gaps = (log.time[1:] - log.time[:-1])[same_case[:-1]]
    silence = int(max(np.quantile(gaps, SILENCE_QUANTILE) if len(gaps) else 0, MIN_SILENCE_US))
    per_hour = np.bincount(hour_of_week(log.time), minlength=168)
    open_hours = (per_hour >= OPEN_SHARE * per_hour.mean()).tolist()
    notes = []
    if not ends:
        notes.append(f"no activity ends most of the cases it appears in, so a case counts as ended only when it "
                     f"falls silent for {silence / US_PER_DAY:.2f} days (the 99th percentile gap between its events)")
    res = log.attributes.get(RESOURCE)
    has_res = res is not None and bool(res.names) and bool((res.codes >= 0).any())
    if not has_res:
        notes.append("the log has no resources: no work in progress per resource and no count of active resources")
    return QueueSpec(ends, silence, open_hours, has_res, notes)


@dataclass
class CaseStates:
    """Per event of a log: does it leave its case open, until when, and each case's first end (causal)."""

    open_until: np.ndarray  # per event: the case is open on [time, open_until) after it (== time: not open)
    closes_at: np.ndarray  # per event: the instant the case ends at or after this event, or -1 when it does not
    first_end_event: np.ndarray  # per case code: the event at which the case first ended (-1: not yet)
    first_end_at: np.ndarray  # per case code: the instant it first ended (end activity time or time-out)


NEVER = np.iinfo(np.int64).max // 4


def case_states(log: EventLog, token: np.ndarray, token_names: list[str], q: QueueSpec) -> CaseStates:
    t = log.time
    n = len(t)
    is_end_name = np.array([name in set(q.end_tokens) for name in token_names] + [False], dtype=bool)
    ends = is_end_name[token]  # token -1 (unknown) picks the trailing False
    same_next = np.r_[log.case.codes[1:] == log.case.codes[:-1], False] if n else np.zeros(0, dtype=bool)
    nxt = np.where(same_next, np.r_[t[1:], 0] if n else t, NEVER)
    timeout = t + q.silence_us
    open_until = np.where(ends, t, np.minimum(nxt, timeout))
    silent = ~ends & (nxt > timeout)
    # An end activity ends the case if the case was open just before it (or it is the case's first event).
    prev_open = np.r_[False, same_next[:-1]] if n else np.zeros(0, dtype=bool)
    prev_open[1:] &= open_until[:-1] > t[:-1]
    prev_open[1:] &= open_until[:-1] >= t[1:]
    first_event = np.r_[True, ~same_next[:-1]] if n else np.zeros(0, dtype=bool)
    closes_at = np.where(ends & (prev_open | first_event), t, np.where(silent, timeout, -1))
    n_cases = len(log.case.names)
    first_end_event = np.full(n_cases, -1, dtype=np.int64)
    first_end_at = np.full(n_cases, -1, dtype=np.int64)
    idx = np.flatnonzero(closes_at >= 0)
    # the first closing event of each case (events are grouped by case, in time order)
    codes = log.case.codes[idx]
    firsts = np.r_[True, codes[1:] != codes[:-1]] if len(idx) else np.zeros(0, dtype=bool)
    first_end_event[codes[firsts]] = idx[firsts]
    first_end_at[codes[firsts]] = closes_at[idx[firsts]]
    return CaseStates(open_until, closes_at, first_end_event, first_end_at)


def stab(starts: np.ndarray, ends: np.ndarray, groups: np.ndarray, at: np.ndarray, at_group: np.ndarray) -> np.ndarray:
    """How many intervals [start, end) of the query's group contain the query instant (groups ≥ 0)."""
    keep = ends > starts
    starts, ends, groups = starts[keep], ends[keep], groups[keep]
    if not len(starts):
        return np.zeros(len(at), dtype=np.float64)
    base = min(int(starts.min()), int(at.min()) if len(at) else 0)
    span = max(int(ends.max()), int(at.max()) if len(at) else 0) - base + 1
    key_s = np.sort(groups.astype(np.int64) * span + (starts - base))
    key_e = np.sort(groups.astype(np.int64) * span + (ends - base))
    key_q = at_group.astype(np.int64) * span + (at - base)
    # Intervals of lower groups have both keys below the query's group: their starts and ends cancel.
    return (np.searchsorted(key_s, key_q, "right") - np.searchsorted(key_e, key_q, "right")).astype(np.float64)


def queue_features(log: EventLog, q: QueueSpec, token: np.ndarray, token_names: list[str], vocab_token: np.ndarray,
                   vocab_resource: np.ndarray | None, ev: np.ndarray) -> tuple[np.ndarray, CaseStates]:
    """Columns ``q.computed_names`` for the prefixes ending at events ``ev``; also the case states.

    ``vocab_token`` / ``vocab_resource``: per event the model's category code (-1 missing), the groups of
    the per-activity and per-resource work in progress.
    """
    t = log.time
    states = case_states(log, token, token_names, q)
    now = t[ev]
    zero = np.zeros(len(t), dtype=np.int64)
    cols = [stab(t, states.open_until, zero, now, np.zeros(len(ev), dtype=np.int64))]
    tok_ok = vocab_token >= 0
    wip_act = stab(t[tok_ok], states.open_until[tok_ok], vocab_token[tok_ok], now, np.maximum(vocab_token[ev], 0))
    cols.append(np.where(vocab_token[ev] >= 0, wip_act, np.nan))
    if q.resources:
        vr = vocab_resource if vocab_resource is not None else np.full(len(t), -1, dtype=np.int32)
        ok = vr >= 0
        wip_res = stab(t[ok], states.open_until[ok], vr[ok], now, np.maximum(vr[ev], 0))
        cols.append(np.where(vr[ev] >= 0, wip_res, np.nan))
    closed = np.sort(states.closes_at[states.closes_at >= 0])
    upto = np.searchsorted(closed, now, "right")
    done = {d: upto - np.searchsorted(closed, now - d * US_PER_DAY, "right") for d in THROUGHPUT_DAYS}
    cols += [done[d].astype(np.float64) for d in THROUGHPUT_DAYS]
    per_day = done[THROUGHPUT_DAYS[-1]] / THROUGHPUT_DAYS[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        cols.append(np.where(per_day > 0, cols[0] / np.where(per_day > 0, per_day, 1.0), np.nan))
    if q.resources:
        res = log.attributes[RESOURCE].codes if RESOURCE in log.attributes else np.full(len(t), -1, np.int32)
        has = np.flatnonzero(res >= 0)
        order = has[np.lexsort((t[has], res[has]))]
        r, tt = res[order], t[order]
        nxt = np.where(np.r_[r[1:] == r[:-1], False], np.r_[tt[1:], 0], NEVER)
        until = np.minimum(nxt, tt + ACTIVE_DAYS * US_PER_DAY)
        cols.append(stab(tt, until, np.zeros(len(tt), dtype=np.int64), now, np.zeros(len(ev), dtype=np.int64)))
    cols.append(hours_to_open(now, q.open_hours))
    return np.column_stack(cols), states


def hours_to_open(t_us: np.ndarray, open_hours: list[bool]) -> np.ndarray:
    """0 in an open hour of the week, else the hours until the next open hour starts."""
    is_open = np.array(open_hours, dtype=bool)
    if not is_open.any():
        return np.zeros(len(t_us))
    # hours from the start of hour h to the next open hour's start (0 when h is open), over two weeks
    wait = np.zeros(168)
    nxt = 0.0
    for h in range(2 * 168 - 1, -1, -1):  # 336 steps over the hours of the week, not over events
        nxt = 0.0 if is_open[h % 168] else nxt + 1.0
        if h < 168:
            wait[h] = nxt
    how = hour_of_week(t_us)
    into = (t_us % US_PER_HOUR) / US_PER_HOUR
    return np.where(is_open[how], 0.0, wait[how] - into)
