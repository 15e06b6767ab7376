"""CSV in and out.

Columns ``case_id, activity, timestamp`` (also PM4Py's ``case:concept:name, concept:name,
time:timestamp``), optional ``resource``/``org:resource``, ``lifecycle``/``lifecycle:transition``,
``group``/``org:group``; ``case:KEY`` columns are case attributes; any other column is an event
attribute. The delimiter (``,`` ``;`` tab ``|``) is sniffed; a UTF-8 byte-order mark is skipped.
"""

from __future__ import annotations

import csv
import gzip
import io
from operator import itemgetter
from pathlib import Path

from tandem.engines.eventlog.model import ALIASES, SHORT, Categorical, EventLog, EventLogError, build_log
from tandem.engines.eventlog.timestamps import format_timestamps

CASE_COLUMNS = ("case_id", "case:concept:name", "case", "caseid")
ACTIVITY_COLUMNS = ("activity", "concept:name")
TIME_COLUMNS = ("timestamp", "time:timestamp", "time")


def _sniff(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(path: str | Path) -> EventLog:
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise EventLogError(f"cannot read {path}: {exc}") from exc
    if b"\x00" in raw[:4096]:
        raise EventLogError(f"{path} is not a text CSV file")
    text = raw.decode("utf-8-sig", "replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff(text[:65536]), skipinitialspace=True)
    header = [h.strip() for h in next(reader, [])]
    lower = [h.lower() for h in header]

    def find(names: tuple[str, ...]) -> int:
        for name in names:
            if name in lower:
                return lower.index(name)
        raise EventLogError(
            f"{path}: no {names[0]!r} column (or {', '.join(repr(n) for n in names[1:])}); "
            f"columns: {', '.join(header)}"
        )

    ci, ai, ti = find(CASE_COLUMNS), find(ACTIVITY_COLUMNS), find(TIME_COLUMNS)
    rows = [r for r in reader if r]  # csv yields [] for a blank line
    problems: list[str] = []
    width = len(header)
    if set(map(len, rows)) - {width}:
        ragged = [r for r in rows if len(r) != width]
        problems.append(f"{len(ragged)} rows had a different number of fields than the header; "
                        "missing fields were taken as empty, extra ones ignored")
        rows = [(r + [""] * width)[:width] for r in rows]

    def column(i: int) -> list[str]:
        return list(map(itemgetter(i), rows))

    attrs: dict[str, Categorical] = {}
    case_attr_values: dict[str, list[str]] = {}
    # "resource" means org:resource, unless the file has both (then each keeps its own name).
    wanted = [ALIASES.get(name.lower(), name) for name in header]
    for i, name in enumerate(header):
        if i in (ci, ai, ti) or not name:
            continue
        if name.lower().startswith("case:"):
            case_attr_values[name[5:]] = column(i)
        else:
            key = wanted[i] if wanted.count(wanted[i]) == 1 else name
            attrs[key] = Categorical.from_values(column(i))
    case = Categorical.from_values(column(ci))
    case_attrs = {}
    for key, values in case_attr_values.items():
        first: dict[int, str | None] = {}
        for code, v in zip(case.codes.tolist(), values, strict=True):
            if v:
                first.setdefault(code, v)
        case_attrs[key] = Categorical.from_values([first.get(c) for c in range(len(case.names))])
    return build_log(case, Categorical.from_values(column(ai)), column(ti), attrs, None, case_attrs, None, problems)


def write_csv(log: EventLog, path: str | Path) -> None:
    """``case_id, activity, timestamp`` (ISO 8601 UTC), then the other attributes, ``case:KEY`` last."""
    path = Path(path)
    keys = list(log.attributes)
    case_keys = [k for k in log.case_attributes if f"case:{k}" not in log.attributes]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    lower = [k.lower() for k in keys]
    header = ["case_id", "activity", "timestamp", *(SHORT[k] if k in SHORT and SHORT[k] not in lower else k
                                                    for k in keys)]
    w.writerow([*header, *(f"case:{k}" for k in case_keys)])
    columns = [log.case.values(), log.activity.values(), format_timestamps(log.time)]
    columns += [log.attributes[k].values() for k in keys]
    columns += [log.case_attributes[k].take(log.case.codes).values() for k in case_keys]
    w.writerows(zip(*columns, strict=True))
    data = buf.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
