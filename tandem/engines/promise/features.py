"""Prefix features of an event log, vectorised: one row per (case, k), computed from what was known at the k-th event.

Every feature of the row for (case, k) depends only on the case's first k events and on events of
other cases with a timestamp at or before the k-th event's time, so that a prediction never changes
when later events are removed from the log (tests check it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tandem.engines.eventlog import EventLog
from tandem.engines.eventlog.model import LIFECYCLE, RESOURCE
from tandem.engines.promise.queue import QueueSpec, learn_queue, queue_features, stab

US_PER_DAY = 86_400_000_000
MAX_TOKENS = 60  # activity(+lifecycle) values kept as their own bag column; the rest share "other"
MAX_RESOURCES = 60  # resources kept as their own category; the rest share "other"
MAX_CASE_LEVELS = 60  # levels of a case attribute kept as their own category
WINDOWS_DAYS = (1.0, 7.0, 30.0)


class PromiseError(Exception):
    """The input cannot be used for remaining-time prediction (the message says why)."""


@dataclass
class Prefixes:
    """Row index of a feature matrix: the k-th event of each case (``event`` is the row in the log)."""

    case: np.ndarray  # case code (into log.case.names)
    k: np.ndarray  # prefix length, 1-based
    event: np.ndarray  # index of the k-th event in the log
    length: np.ndarray  # the case's length in this log
    remaining_days: np.ndarray  # last event time in this log minus the k-th event's time


@dataclass
class FeatureSpec:
    """Vocabularies learnt at fit time, so that a saved model maps a new log to the same columns."""

    tokens: list[str]  # activity names (with lifecycle, if the log has more than one lifecycle value)
    use_lifecycle: bool
    resources: list[str]  # empty: no resource feature
    case_attributes: dict[str, list[str]] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    inter_case: bool = True  # False: the queue-blind model (no load, no queue columns)
    queue: QueueSpec | None = None  # the queue columns (None: not used)
    leave_out: list[str] = field(default_factory=list)  # column names left out (for measuring what they add)

    @property
    def all_names(self) -> list[str]:
        base = ["k", "elapsed_days", "since_prev_days", "hour", "weekday", "last_token", "prev_token"]
        if self.resources:
            base.append("last_resource")
        base += [f"case:{a}" for a in self.case_attributes]
        base += [f"count:{t}" for t in self.tokens] + ["count:other"]
        if self.inter_case:
            base += [f"{what}_{int(w)}d" for w in WINDOWS_DAYS for what in ("arrivals", "events")]
            if self.queue is not None:
                base += self.queue.names + [f"queue:wip_case:{a}" for a in self.case_attributes]
        base += [f"extra:{e}" for e in self.extra]
        return base

    @property
    def names(self) -> list[str]:
        return [n for n in self.all_names if n not in self.leave_out]

    @property
    def categorical(self) -> list[int]:
        n = 7 + bool(self.resources) + len(self.case_attributes)
        cats = set(self.all_names[i] for i in [5, 6, *range(7, n)])
        return [i for i, name in enumerate(self.names) if name in cats]

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "use_lifecycle": self.use_lifecycle, "resources": self.resources,
                "case_attributes": self.case_attributes, "extra": self.extra, "inter_case": self.inter_case,
                "queue": self.queue.to_dict() if self.queue is not None else None, "leave_out": self.leave_out}

    @classmethod
    def from_dict(cls, d: Mapping) -> FeatureSpec:
        queue = d.get("queue")
        return cls(list(d["tokens"]), bool(d["use_lifecycle"]), list(d["resources"]),
                   {str(k): list(v) for k, v in d["case_attributes"].items()}, list(d["extra"]),
                   bool(d.get("inter_case", True)), QueueSpec.from_dict(queue) if queue else None,
                   list(d.get("leave_out", [])))


def _token_names(log: EventLog, use_lifecycle: bool) -> tuple[np.ndarray, list[str]]:
    """Per event a token code and the token names: the activity, or "activity|lifecycle"."""
    if not use_lifecycle:
        return log.activity.codes, list(log.activity.names)
    life = log.attributes[LIFECYCLE]
    n_life = len(life.names) + 1
    combined = log.activity.codes.astype(np.int64) * n_life + (life.codes + 1)
    uniq, inv = np.unique(combined, return_inverse=True)
    names = [log.activity.names[u // n_life] + ("" if u % n_life == 0 else "|" + life.names[u % n_life - 1])
             for u in uniq.tolist()]
    return inv.astype(np.int32).ravel(), names


def _top(codes: np.ndarray, names: list[str], limit: int) -> list[str]:
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    order = np.argsort(-counts, kind="stable")[:limit]
    return [names[i] for i in order.tolist() if counts[i] > 0]


def _remap(codes: np.ndarray, names: list[str], vocab: list[str]) -> np.ndarray:
    """Codes into ``names`` to codes into ``vocab``; names not in vocab get len(vocab) ("other"), missing -1."""
    index = {v: i for i, v in enumerate(vocab)}
    table = np.array([index.get(n, len(vocab)) for n in names] + [-1], dtype=np.int32)
    return table[codes]  # code -1 picks the trailing -1


def uses_lifecycle(log: EventLog) -> bool:
    life = log.attributes.get(LIFECYCLE)
    return life is not None and len(set(life.names)) > 1


def learn_spec(log: EventLog, case_attributes: Sequence[str] = (), extra: Sequence[str] = (), *,
               queue_features: bool = True, leave_out: Sequence[str] = ()) -> FeatureSpec:
    """The vocabularies (and, with ``queue_features``, the queue's ends and hours) of the fitting cases ``log``."""
    use_life = uses_lifecycle(log)
    codes, names = _token_names(log, use_life)
    res = log.attributes.get(RESOURCE)
    resources = _top(res.codes, res.names, MAX_RESOURCES) if res is not None and res.names else []
    cats: dict[str, list[str]] = {}
    for key in case_attributes:
        if key not in log.case_attributes:
            have = ", ".join(sorted(log.case_attributes)) or "none"
            raise PromiseError(f"no case attribute {key!r}; the log has: {have}")
        attr = log.case_attributes[key]
        cats[key] = _top(attr.codes, attr.names, MAX_CASE_LEVELS)
    queue = learn_queue(log, codes, names) if queue_features else None
    return FeatureSpec(_top(codes, names, MAX_TOKENS), use_life, resources, cats, list(extra),
                       inter_case=queue_features, queue=queue, leave_out=list(leave_out))


def prefixes(log: EventLog, *, include_last: bool = False) -> Prefixes:
    """Every (case, k) with k < case length (or ≤ with ``include_last``), in log order."""
    bounds = log.case_bounds()
    starts, lengths = bounds[:-1], np.diff(bounds)
    case_idx = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(len(log)) - starts[case_idx]
    last_time = log.time[bounds[1:] - 1][case_idx] if len(log) else log.time
    keep = np.ones(len(log), dtype=bool) if include_last else pos + 1 < lengths[case_idx]
    ev = np.flatnonzero(keep)
    return Prefixes(
        case=log.case.codes[ev], k=(pos[ev] + 1).astype(np.int64), event=ev, length=lengths[case_idx][ev],
        remaining_days=(last_time[ev] - log.time[ev]) / US_PER_DAY,
    )


def features(log: EventLog, spec: FeatureSpec, rows: Prefixes,
             extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The feature matrix (float32, columns ``spec.names``) of the prefixes ``rows`` of ``log``."""
    n = len(log)
    t = log.time
    bounds = log.case_bounds()
    starts, lengths = bounds[:-1], np.diff(bounds)
    case_idx = np.repeat(np.arange(len(starts)), lengths)
    first = starts[case_idx]
    ev = rows.event
    cols: list[np.ndarray] = []
    cols.append(rows.k.astype(np.float64))
    cols.append((t[ev] - t[first[ev]]) / US_PER_DAY)
    prev = np.maximum(ev - 1, first[ev])
    cols.append((t[ev] - t[prev]) / US_PER_DAY)
    seconds = np.mod(t[ev] // 1_000_000, 86_400 * 7)  # 1970-01-01 was a Thursday
    cols.append((seconds % 86_400) / 3600.0)
    cols.append(((seconds // 86_400 + 3) % 7).astype(np.float64))

    codes, names = _token_names(log, spec.use_lifecycle)
    tok = _remap(codes, names, spec.tokens)
    cols.append(tok[ev].astype(np.float64))
    cols.append(np.where(ev > first[ev], tok[np.maximum(ev - 1, 0)], -1).astype(np.float64))
    res = log.attributes.get(RESOURCE)
    rcodes = _remap(res.codes, res.names, spec.resources) if res is not None else np.full(n, -1, np.int32)
    if spec.resources:
        cols.append(rcodes[ev].astype(np.float64))
    for key, vocab in spec.case_attributes.items():
        attr = log.case_attributes.get(key)
        if attr is None:
            raise PromiseError(f"the model uses the case attribute {key!r}, which this log does not have")
        cols.append(_remap(attr.codes, attr.names, vocab)[rows.case].astype(np.float64))

    # Bag of tokens: cumulative counts within the case, up to and including the k-th event.
    n_tok = len(spec.tokens) + 1
    onehot = np.zeros((n, n_tok), dtype=np.float32)
    onehot[np.arange(n), np.where(tok < 0, n_tok - 1, tok)] = 1.0
    cum = np.cumsum(onehot, axis=0)
    before = np.where((first > 0)[:, None], cum[np.maximum(first - 1, 0)], 0.0)
    bag = (cum - before)[ev]

    # Inter-case load: case arrivals and events (of any case) in the window up to the k-th event's time.
    sorted_t = np.sort(t)
    arrivals = np.sort(t[starts]) if len(starts) else sorted_t
    now = t[ev]
    load = []
    for w in WINDOWS_DAYS if spec.inter_case else ():
        since = now - int(w * US_PER_DAY)
        load.append(np.searchsorted(arrivals, now, "right") - np.searchsorted(arrivals, since, "right"))
        load.append(np.searchsorted(sorted_t, now, "right") - np.searchsorted(sorted_t, since, "right"))
    ex = []
    for key in spec.extra:
        if extra is None or key not in extra:
            raise PromiseError(f"the model needs the extra feature {key!r} (one number per event)")
        values = np.asarray(extra[key], dtype=np.float64)
        if values.shape != (n,):
            raise PromiseError(f"extra feature {key!r} has shape {values.shape}, expected ({n},)")
        ex.append(values[ev])
    head = np.column_stack(cols) if cols else np.zeros((len(ev), 0))
    if spec.inter_case and spec.queue is not None:
        qcols, states = queue_features(log, spec.queue, codes, names, tok, rcodes if spec.resources else None, ev)
        computed = spec.queue.computed_names
        load += [qcols[:, computed.index(name)] for name in spec.queue.names]
        # Work in progress among the cases with the same value of each case attribute (e.g. the providing unit).
        for key, vocab in spec.case_attributes.items():
            group = _remap(log.case_attributes[key].codes, log.case_attributes[key].names, vocab)[log.case.codes]
            ok = group >= 0
            wip = stab(t[ok], states.open_until[ok], group[ok], t[ev], np.maximum(group[ev], 0))
            load.append(np.where(group[ev] >= 0, wip, np.nan))
    tail = np.column_stack(load + ex) if load or ex else np.zeros((len(ev), 0))
    X = np.hstack([head, bag, tail]).astype(np.float32)
    if spec.leave_out:
        X = X[:, [i for i, name in enumerate(spec.all_names) if name not in spec.leave_out]]
    cats = X[:, spec.categorical]
    cats[cats < 0] = np.nan  # missing category: LightGBM's missing value (a negative code makes it warn on stdout)
    X[:, spec.categorical] = cats
    return X
