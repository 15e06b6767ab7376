"""Event logs: read CSV/XES into a columnar log, write it back, analyse it. Pure (no Django)."""

from __future__ import annotations

from pathlib import Path

from tandem.engines.eventlog.analyse import analyse
from tandem.engines.eventlog.csvlog import read_csv, write_csv
from tandem.engines.eventlog.model import Categorical, EventLog, EventLogError
from tandem.engines.eventlog.model import drop_duplicates as drop_exact_duplicates
from tandem.engines.eventlog.xes import read_bytes, read_xes, write_xes

__all__ = ["Categorical", "EventLog", "EventLogError", "analyse", "drop_exact_duplicates", "read_log", "write_log"]


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def read_log(path: str | Path, *, drop_duplicates: bool = False) -> EventLog:
    """By extension (.xes, .csv, optionally .gz); otherwise by the first bytes of the file.

    Events that repeat another event of their case exactly are kept (and reported in
    ``problems``) unless ``drop_duplicates``.
    """
    log = _read_any(Path(path))
    return drop_exact_duplicates(log) if drop_duplicates else log


def _read_any(path: Path) -> EventLog:
    if not path.is_file():
        raise EventLogError(f"no such file: {path}")
    kind = _kind(path)
    if kind == ".xes":
        return read_xes(path)
    if kind in (".csv", ".tsv", ".txt"):
        return read_csv(path)
    try:
        head = read_bytes(path)[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    except Exception as exc:
        raise EventLogError(f"cannot read {path}: {exc}") from exc
    if head.startswith(b"<"):
        return read_xes(path)
    if b"\x00" in head or not head:
        raise EventLogError(f"{path}: unknown format (expected .csv or .xes, optionally gzipped)")
    return read_csv(path)


def write_log(log: EventLog, path: str | Path) -> None:
    path = Path(path)
    kind = _kind(path)
    if kind == ".xes":
        write_xes(log, path)
    elif kind == ".csv":
        write_csv(log, path)
    else:
        raise EventLogError(f"{path}: write .csv or .xes (optionally .gz)")
