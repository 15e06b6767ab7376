"""The columnar event log and how raw columns become one.

An :class:`EventLog` holds one row per event in numpy arrays, sorted by (case, time, original
order). Text columns are categorical: an int32 code per event (``-1`` = missing) and the list of
distinct values. Attribute keys follow XES (``org:resource``, ``lifecycle:transition``,
``org:group``, ...), whatever the input called them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tandem.engines.eventlog.timestamps import MISSING, ParsedTimes, parse_timestamps

RESOURCE = "org:resource"
LIFECYCLE = "lifecycle:transition"
GROUP = "org:group"
# Short names (CSV headers, CLI arguments) for the standard keys.
ALIASES = {"resource": RESOURCE, "lifecycle": LIFECYCLE, "group": GROUP}
SHORT = {v: k for k, v in ALIASES.items()}


class EventLogError(Exception):
    """The input cannot be read as an event log at all (as opposed to a problem in some rows)."""


def first_appearance_codes(arr: np.ndarray) -> tuple[np.ndarray, list]:
    """Codes of a numpy string array in order of first appearance, by sorting (no Python loop per value).

    The empty string is "missing": code -1, not among the names.
    """
    uniq, first, inv = np.unique(arr, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    codes = rank[inv.ravel()]
    names = uniq[order].tolist()
    empty = arr.dtype.type()
    if empty in names:
        gone = names.index(empty)
        codes = np.where(codes == gone, -1, codes - (codes > gone)).astype(np.int32)
        names.pop(gone)
    return codes, names


@dataclass
class Categorical:
    """Codes (int32, -1 = missing) into ``names``."""

    codes: np.ndarray
    names: list[str]

    @classmethod
    def from_values(cls, values: Sequence[str | None]) -> Categorical:
        """Codes in order of first appearance (so the first case in a file gets code 0); "" and None are missing."""
        n = len(values)
        if n and None not in values and max(map(len, values)) <= 256:  # type: ignore[arg-type]
            codes, names = first_appearance_codes(np.array(values, dtype=str))
            return cls(codes, names)
        index: dict[str | None, int] = {None: -1, "": -1}
        codes = np.fromiter((index.setdefault(v, len(index) - 2) for v in values), dtype=np.int32, count=n)
        return cls(codes, [k for k in index if k is not None and k != ""])

    @classmethod
    def from_raw(cls, values: list[bytes], where: np.ndarray, n: int, decode: Callable[[bytes], str]) -> Categorical:
        """``values[j]`` is the raw value of row ``where[j]`` of ``n`` rows; only distinct values get decoded."""
        codes = np.full(n, -1, dtype=np.int32)
        if not values:
            return cls(codes, [])
        if max(map(len, values)) <= 256:
            sub, names = first_appearance_codes(np.array(values, dtype=bytes))
        else:  # very long values: a dict, to keep memory proportional to the text
            index: dict[bytes, int] = {b"": -1}
            sub = np.fromiter((index.setdefault(v, len(index) - 1) for v in values), dtype=np.int32,
                              count=len(values))
            names = [k for k in index if k != b""]
        codes[where] = sub
        return cls(codes, [decode(k) for k in names])

    def take(self, idx: np.ndarray) -> Categorical:
        return Categorical(self.codes[idx], self.names)

    def values(self) -> list[str | None]:
        lookup = np.array([*self.names, None], dtype=object)
        return lookup[self.codes].tolist()  # code -1 picks the trailing None


@dataclass
class EventLog:
    case: Categorical  # per event: the case id
    activity: Categorical  # per event: the activity name
    time: np.ndarray  # per event: int64 microseconds since 1970-01-01 UTC
    attributes: dict[str, Categorical] = field(default_factory=dict)  # other event attributes, as text
    types: dict[str, str] = field(default_factory=dict)  # XES type of each attribute (default "string")
    case_attributes: dict[str, Categorical] = field(default_factory=dict)  # indexed by case code
    case_types: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.time)

    @property
    def n_cases(self) -> int:
        codes = self.case.codes
        return int(np.count_nonzero(np.bincount(codes[codes >= 0], minlength=len(self.case.names))))

    def case_bounds(self) -> np.ndarray:
        """Start index of every case's run of events, plus the end (len)."""
        codes = self.case.codes
        if len(codes) == 0:
            return np.zeros(1, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        return np.r_[starts, len(codes)]

    def attribute(self, key: str) -> Categorical:
        """An event attribute by XES key or short name; KeyError names the ones there are."""
        found = self.attributes.get(key) or self.attributes.get(ALIASES.get(key, key))
        if found is None:
            raise KeyError(f"no event attribute {key!r}; the log has: {', '.join(sorted(self.attributes)) or 'none'}")
        return found


def build_log(
    case: Categorical,
    activity: Categorical,
    timestamps: Sequence[str | None] | Sequence[bytes] | ParsedTimes,
    attrs: dict[str, Categorical] | None = None,
    types: dict[str, str] | None = None,
    case_attributes: dict[str, Categorical] | None = None,
    case_types: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> EventLog:
    """Raw columns (one entry per event, file order) to a clean, sorted log with its problems listed.

    ``case_attributes`` are indexed by the codes of ``case``.
    """
    problems = list(problems or [])
    attrs = attrs or {}
    parsed = timestamps if isinstance(timestamps, ParsedTimes) else parse_timestamps(timestamps)
    if parsed.unparseable:
        problems.append(f"{parsed.unparseable} timestamps could not be read")
    if parsed.naive:
        problems.append(f"{parsed.naive} timestamps had no UTC offset and were taken as UTC")
    if parsed.offsets > 1:
        problems.append(f"timestamps carry {parsed.offsets} different UTC offsets; all were normalised to UTC")

    keep = (case.codes >= 0) & (activity.codes >= 0) & (parsed.micros != MISSING)
    for what, bad in (
        ("without a case id", case.codes < 0),
        ("without an activity", activity.codes < 0),
        ("without a readable timestamp", parsed.micros == MISSING),
    ):
        if bad.any():
            problems.append(f"{int(bad.sum())} events {what} were dropped")
    idx = np.flatnonzero(keep) if not keep.all() else np.arange(len(keep))
    time = parsed.micros[idx]
    case_codes = case.codes[idx]
    # Sorted by (case, time, original order); a file already in that order is not sorted again.
    order = case_time_order(case_codes, time)

    # Exact duplicates are reported but kept: real logs (Helpdesk has 127) repeat events, and
    # the published figures for them, like PM4Py, count every event. drop_duplicates() removes them.
    dup = duplicate_mask(case_codes, time, activity.codes[idx], [a.codes[idx] for a in attrs.values()], order)
    if dup.any():
        problems.append(
            f"{int(dup.sum())} events repeat another event of their case exactly (same activity, time "
            "and attributes); they were kept (drop them with --drop-duplicates)"
        )
    if order is not None:
        moved = np.unique(case_codes[np.flatnonzero(order != np.arange(len(order)))])
        problems.append(f"events of {len(moved)} cases were not in time order and were sorted")
        idx = idx[order]
    log = EventLog(
        case=case.take(idx),
        activity=activity.take(idx),
        time=parsed.micros[idx],
        attributes={k: a.take(idx) for k, a in attrs.items()},
        types={k: (types or {}).get(k, "string") for k in attrs},
        problems=problems,
    )
    empty_cases = len(case.names) - log.n_cases
    if empty_cases:
        problems.append(f"{empty_cases} cases had no usable events and are not counted")
    for key, by_case in (case_attributes or {}).items():
        log.case_attributes[key] = by_case
        log.case_types[key] = (case_types or {}).get(key, "string")
    return _compact(log)


def case_time_order(case_codes: np.ndarray, time: np.ndarray) -> np.ndarray | None:
    """The stable order by (case, time), or None when the events are in that order already."""
    if len(case_codes) < 2:
        return None
    step = np.diff(case_codes)
    if (step >= 0).all() and (np.diff(time)[step == 0] >= 0).all():
        return None
    return np.lexsort((time, case_codes))  # stable: equal (case, time) keep their original order


def duplicate_mask(
    case_codes: np.ndarray, time: np.ndarray, act_codes: np.ndarray, attr_codes: Sequence[np.ndarray],
    order: np.ndarray | bool | None = False,
) -> np.ndarray:
    """True for every event equal in every column to an earlier one (sorted so equals are neighbours).

    Only events that share their case and time with another one can repeat it, so the full sort
    on every column runs on those alone (none, in most logs). ``order`` is
    :func:`case_time_order` when the caller has it.
    """
    dup = np.zeros(len(case_codes), dtype=bool)
    if len(case_codes) < 2:
        return dup
    if order is False:
        order = case_time_order(case_codes, time)
    sc, st = (case_codes, time) if order is None else (case_codes[order], time[order])
    tie = (sc[1:] == sc[:-1]) & (st[1:] == st[:-1])
    if not tie.any():
        return dup
    members = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])
    pos = np.sort(members if order is None else order[members])  # type: ignore[index]
    if len(pos) < len(case_codes):
        dup[pos] = duplicate_mask(case_codes[pos], time[pos], act_codes[pos], [a[pos] for a in attr_codes],
                                  np.lexsort((time[pos], case_codes[pos])))
        return dup
    order = np.lexsort((*reversed(list(attr_codes)), act_codes, time, case_codes))
    same = np.ones(len(order) - 1, dtype=bool)
    for col in (case_codes, time, act_codes, *attr_codes):
        s = col[order]
        same &= s[1:] == s[:-1]
    dup[order[1:][same]] = True
    return dup


def drop_duplicates(log: EventLog) -> EventLog:
    """The log without events that repeat another event of their case exactly."""
    attrs = list(log.attributes.values())
    dup = duplicate_mask(log.case.codes, log.time, log.activity.codes, [a.codes for a in attrs])
    if not dup.any():
        return log
    keep = np.flatnonzero(~dup)
    problems = [p for p in log.problems if "repeat another event" not in p]
    problems.append(f"{int(dup.sum())} exact duplicate events were dropped")
    trimmed = EventLog(
        case=log.case.take(keep),
        activity=log.activity.take(keep),
        time=log.time[keep],
        attributes={k: a.take(keep) for k, a in log.attributes.items()},
        types=dict(log.types),
        problems=problems,
    )
    trimmed.case_attributes.update(log.case_attributes)
    trimmed.case_types.update(log.case_types)
    return _compact(trimmed)


def _compact(log: EventLog) -> EventLog:
    """Drop category names no event uses any more (cases left empty, activities only in dropped rows)."""

    def squeeze(cat: Categorical) -> tuple[Categorical, np.ndarray]:
        used = np.zeros(len(cat.names) + 1, dtype=bool)
        used[cat.codes] = True  # code -1 marks the last slot, ignored below
        keep = np.flatnonzero(used[:-1])
        remap = np.full(len(cat.names) + 1, -1, dtype=np.int32)
        remap[keep] = np.arange(len(keep), dtype=np.int32)
        return Categorical(remap[cat.codes], [cat.names[i] for i in keep.tolist()]), keep

    log.case, kept_cases = squeeze(log.case)
    log.activity, _ = squeeze(log.activity)
    log.attributes = {k: squeeze(a)[0] for k, a in log.attributes.items()}
    log.case_attributes = {k: a.take(kept_cases) for k, a in log.case_attributes.items()}
    return log
