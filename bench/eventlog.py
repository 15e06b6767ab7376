"""Event-log import and analysis: Tandem's reader beside PM4Py's ``read_xes``, and ``analyse`` on 1M events.

    .venv/bin/python bench/eventlog.py                      # shared logs + a generated 1,000,000-event log
    .venv/bin/python bench/eventlog.py --events 200000 --pm4py-venv /tmp/pm4py-venv

PM4Py is AGPL: never a Tandem dependency. It lives in a throwaway venv
(``python3 -m venv /tmp/pm4py-venv && /tmp/pm4py-venv/bin/pip install pm4py``, or
``--pm4py-venv DIR``, which creates it when it is missing) and is timed in a subprocess of that
venv's python, on the same files, in the same run.

Also timed: the whole command, ``tandem analyse --log FILE --group-attribute org:group --json``,
as a subprocess (start-up, reading, analysis, JSON), best of ``--repeat``, beside its 3 s target.
The generated files are kept in ``--dir`` and reused (same seed) unless ``--regenerate``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tandem.engines.eventlog import Categorical, EventLog, analyse, read_log, write_log

SHARED = Path("/work/shared/data")
LOGS = ["Helpdesk.xes.gz", "BPI_Challenge_2012_W.xes.gz", "env_permit.xes.gz"]

PM4PY_SCRIPT = """
import contextlib, io, json, sys, time, warnings
warnings.filterwarnings("ignore")
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    import pm4py
path, repeat = sys.argv[1], int(sys.argv[2])
best = None
for _ in range(repeat):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        df = pm4py.read_xes(path)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "events": len(df), "cases": int(df["case:concept:name"].nunique()),
                  "activities": int(df["concept:name"].nunique())}))
"""


def timed(fn, repeat: int):
    best, result = None, None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best, result


def peak_mib(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def pm4py_python(venv: str | None, python: str | None) -> str | None:
    """The PM4Py venv's python; with ``venv``, the venv is made (and PM4Py installed) when missing."""
    if venv:
        exe = Path(venv) / "bin" / "python"
        if not exe.exists():
            print(f"creating {venv} with PM4Py (benchmark only, AGPL: never a Tandem dependency) ...")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([str(exe), "-m", "pip", "install", "-q", "pm4py"], check=True)
        return str(exe)
    if python and Path(python).exists():
        return python
    print("PM4Py not timed: python3 -m venv /tmp/pm4py-venv && /tmp/pm4py-venv/bin/pip install pm4py "
          "(or pass --pm4py-venv /tmp/pm4py-venv)")
    return None


def command_seconds(path: Path, repeat: int, group: str | None = "org:group") -> tuple[float, float]:
    """Wall time and CPU time (user + system) of the whole ``tandem analyse`` command in a fresh
    process, best of ``repeat`` each: on a shared machine the CPU time is the steadier figure."""
    args = [sys.executable, "-m", "tandem.cli", "analyse", "--log", str(path), "--json"]
    if group:
        args += ["--group-attribute", group]
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=Path(__file__).resolve().parent.parent)
        best = min(best, time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best, best_cpu


def pm4py_time(python: str | None, path: Path, repeat: int) -> dict | None:
    if not python or not Path(python).exists():
        return None
    out = subprocess.run([python, "-c", PM4PY_SCRIPT, str(path), str(repeat)], capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        print(f"  PM4Py failed on {path.name}: {out.stderr.strip()[-300:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def generate(n_events: int, seed: int = 7) -> EventLog:
    """A synthetic log: ~10 events a case, 25 activities, 200 resources in 8 groups, ~20 days a case."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 18, size=n_events // 5)
    lengths = lengths[: np.searchsorted(np.cumsum(lengths), n_events) + 1]
    lengths[-1] -= lengths.sum() - n_events
    lengths = lengths[lengths > 0]
    n_cases = len(lengths)
    case = np.repeat(np.arange(n_cases, dtype=np.int32), lengths)
    start = rng.integers(1_600_000_000, 1_700_000_000, size=n_cases) * 1_000_000
    gaps = rng.exponential(2 * 86400e6, size=n_events).astype(np.int64)
    first = np.r_[True, case[1:] != case[:-1]]
    gaps[first] = 0
    csum = np.cumsum(gaps)
    time_ = start[case] + csum - np.repeat(csum[first], lengths)
    # Activities follow a loose chain so that directly-follows and variants are realistic.
    step = np.arange(n_events) - np.repeat(np.flatnonzero(first), lengths)
    activity = ((step + rng.integers(0, 3, size=n_events)) % 25).astype(np.int32)
    resource = rng.integers(0, 200, size=n_events).astype(np.int32)
    return EventLog(
        case=Categorical(case, [f"case {i}" for i in range(n_cases)]),
        activity=Categorical(activity, [f"activity {i:02d}" for i in range(25)]),
        time=time_,
        attributes={
            "org:resource": Categorical(resource, [f"r{i}" for i in range(200)]),
            "org:group": Categorical((resource % 8).astype(np.int32), [f"team {i}" for i in range(8)]),
            "lifecycle:transition": Categorical(np.zeros(n_events, dtype=np.int32), ["complete"]),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/tandem-eventlog-bench")  # noqa: S108 - a benchmark scratch folder
    parser.add_argument("--pm4py", default="/tmp/pm4py-venv/bin/python",  # noqa: S108 - throwaway venv
                        help="python of a venv with PM4Py")
    parser.add_argument("--pm4py-venv", metavar="DIR", help="a venv with PM4Py; created when missing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true", help="write the generated log again")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cpus, load average {load}")
    pm4py = pm4py_python(args.pm4py_venv, args.pm4py)

    rows = []
    files = [SHARED / name for name in LOGS if (SHARED / name).exists()]
    big_xes, big_csv = work / f"generated-{args.events}.xes.gz", work / f"generated-{args.events}.csv"
    if args.regenerate or not big_xes.exists() or not big_csv.exists():
        print(f"generating {args.events:,} events ...")
        t = time.perf_counter()
        big = generate(args.events)
        write_log(big, big_xes)
        t_xes = time.perf_counter() - t
        t = time.perf_counter()
        write_log(big, big_csv)
        print(f"  generated + wrote XES.gz in {t_xes:.1f} s, CSV in {time.perf_counter() - t:.1f} s")
    files += [big_xes, big_csv]

    for path in files:
        seconds, log = timed(lambda p=path: read_log(p), args.repeat)
        peak = peak_mib(lambda p=path: read_log(p))
        pm = pm4py_time(pm4py, path, 1 if len(log) > 300_000 else args.repeat) if path.suffix == ".gz" and \
            ".xes" in path.name else None
        row = {"file": path.name, "events": len(log), "cases": log.n_cases, "read_s": round(seconds, 3),
               "peak_mib": round(peak), "pm4py_s": pm and round(pm["seconds"], 2),
               "pm4py_counts": pm and (pm["cases"], pm["events"], pm["activities"]),
               "speedup": pm and round(pm["seconds"] / seconds, 1)}
        rows.append(row)
        print(json.dumps(row))

    log = read_log(big_xes)
    seconds, figures = timed(lambda: analyse(log, "org:group"), args.repeat)
    peak = peak_mib(lambda: analyse(log, "org:group"))
    print(json.dumps({"analyse": big_xes.name, "events": figures["events"], "seconds": round(seconds, 3),
                      "peak_mib": round(peak), "variants": figures["variants"],
                      "pairs": len(figures["directly_follows"])}))
    for path in files[:3]:
        shared = read_log(path)
        seconds, _ = timed(lambda s=shared: analyse(s, "org:resource"), args.repeat)
        print(json.dumps({"analyse": path.name, "seconds": round(seconds, 3)}))
    for path in (big_csv, big_xes):
        seconds, cpu = command_seconds(path, args.repeat)
        print(json.dumps({"command": f"tandem analyse --log {path.name} --group-attribute org:group --json",
                          "wall_s": round(seconds, 2), "cpu_s": round(cpu, 2), "target_s": 3.0,
                          "met": seconds < 3.0}))
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
