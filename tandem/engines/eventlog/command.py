"""``tandem analyse`` and ``tandem convert-log`` without Django.

Both commands read and write files only, so the ``tandem`` console script runs them from here
without setting up Django: no settings, no database, no URL configuration, no system checks.
That start-up (importing every app, its views and their scientific libraries) took 2.5 s of a
3 s budget for a 1M-event log; this module imports numpy and the event-log engine alone
(0.1 s). The Django management commands of the same names (``manage.py analyse``,
``call_command``) use the same arguments and handlers, so both ways behave alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from tandem.engines.eventlog import EventLogError, analyse, read_log, write_log

ANALYSE_HELP = "Counts, case durations, directly-follows pairs, handovers and ping-pong of a CSV or XES event log."
CONVERT_HELP = "Convert an event log between CSV and XES (either optionally .gz), chosen by extension."


def add_analyse_arguments(parser: Any) -> None:
    parser.add_argument("--log", required=True, metavar="FILE", help="a .csv or .xes file, optionally .gz")
    parser.add_argument("--group-attribute", metavar="NAME",
                        help="event attribute for handovers and ping-pong, e.g. org:group or org:resource")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    add_duplicates_argument(parser)


def add_convert_arguments(parser: Any) -> None:
    parser.add_argument("source", metavar="IN")
    parser.add_argument("target", metavar="OUT")
    add_duplicates_argument(parser)


def add_duplicates_argument(parser: Any) -> None:
    parser.add_argument(
        "--drop-duplicates", action="store_true",
        help="leave out events that repeat another event of their case exactly (kept by default)",
    )


def run_analyse(options: dict[str, Any], out: TextIO) -> int:
    """Exit code; the figures on ``out``, one line on stderr when the log cannot be analysed."""
    try:
        log = read_log(options["log"], drop_duplicates=options["drop_duplicates"])
        figures = analyse(log, options["group_attribute"])
    except (EventLogError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        sys.stderr.write(f"tandem analyse: {message}\n")
        return 2
    out.write((json.dumps(figures, indent=2, ensure_ascii=False) if options["json"] else table(figures)) + "\n")
    return 0


def run_convert(options: dict[str, Any], out: TextIO) -> int:
    try:
        log = read_log(options["source"], drop_duplicates=options["drop_duplicates"])
        write_log(log, options["target"])
    except (EventLogError, OSError) as exc:
        sys.stderr.write(f"tandem convert-log: {exc}\n")
        return 2
    for p in log.problems:
        sys.stderr.write(f"problem: {p}\n")
    out.write(f"{len(log):,} events of {log.n_cases:,} cases written to {options['target']}\n")
    return 0


def table(f: dict[str, Any]) -> str:
    d = f["case_duration_days"]
    lines = [
        f"cases        {f['cases']:>12,}",
        f"events       {f['events']:>12,}",
        f"activities   {f['activities']:>12,}",
        f"variants     {f['variants']:>12,}",
        f"case duration (days): mean {d['mean']:.2f}, median {d['median']:.2f}, p90 {d['p90']:.2f}",
    ]
    if "handovers_per_case" in f:
        lines.append(f"handovers per case ({f['group_attribute']}): {f['handovers_per_case']:.3f}")
        lines.append(f"ping-pong rate: {f['ping_pong_rate']:.2%}")
    lines += ["", "directly follows (top 20 by count):", f"{'count':>8}  {'mean days':>10}  from → to"]
    lines += [f"{r['count']:>8,}  {r['mean_days']:>10.3f}  {r['from']} → {r['to']}"
              for r in f["directly_follows"][:20]]
    if f["problems"]:
        lines += ["", "problems:", *(f"  - {p}" for p in f["problems"])]
    return "\n".join(lines)


COMMANDS: dict[str, tuple[str, Callable[[Any], None], Callable[[dict[str, Any], TextIO], int]]] = {
    "analyse": (ANALYSE_HELP, add_analyse_arguments, run_analyse),
    "convert-log": (CONVERT_HELP, add_convert_arguments, run_convert),
}


def keep_freed_memory() -> None:
    """Ask glibc's malloc to reuse freed memory instead of returning it to the kernel.

    numpy gets every large array from its own ``mmap`` and gives it back when freed, so each
    new temporary of a 1M-event read costs fresh page faults: on 1M XES events about half of
    the CPU time was system time. With no ``mmap`` per block and no trimming, freed arrays are
    reused: 0.7–1 s less system time there (2.4–3.1 s → 1.7–1.9 s), a little more peak memory
    (1.55 → 1.61 GB). Only for these one-shot commands, and a no-op where malloc is not glibc's.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    mallopt(m_mmap_max, 0)
    mallopt(m_trim_threshold, 2**31 - 1)
    mallopt(m_top_pad, 256 * 2**20)


def main(name: str, argv: list[str]) -> int:
    """``tandem NAME ARGS...`` for a command of :data:`COMMANDS`."""
    help_text, add_arguments, run = COMMANDS[name]
    keep_freed_memory()
    parser = argparse.ArgumentParser(prog=f"tandem {name}", description=help_text)
    add_arguments(parser)
    # Django's common options, accepted and ignored so that command lines written for
    # ``manage.py`` keep working.
    parser.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=1, help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--pythonpath", help=argparse.SUPPRESS)
    for flag in ("--traceback", "--no-color", "--force-color", "--skip-checks"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)
    return run(vars(parser.parse_args(argv)), sys.stdout)
