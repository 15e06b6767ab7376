"""The three shared real logs: counts and durations of data/README.md, and analyse against a plain recomputation."""

from __future__ import annotations

import gzip
import itertools
import statistics
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from tandem.engines.eventlog import analyse, read_log

DATA = Path("/work/shared/data")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared logs not present")

# (file, cases, events left after --drop-duplicates, events in the file, activities, mean, median days)
EXPECTED = [
    ("Helpdesk.xes.gz", 4580, 21221, 21348, 14, 40.9, 39.9),
    ("BPI_Challenge_2012_W.xes.gz", 9658, 170107, 170107, 7, 11.7, 8.8),
    ("env_permit.xes.gz", 1434, 8577, 8577, 27, 5.4, 0.03),
]


@pytest.mark.parametrize(("name", "cases", "events", "in_file", "activities", "mean", "median"), EXPECTED)
def test_it_reads_the_shared_logs_with_the_published_counts(name, cases, events, in_file, activities, mean, median):
    f = analyse(read_log(DATA / name))
    assert (f["cases"], f["events"], f["activities"]) == (cases, in_file, activities)
    repeated = in_file - events
    assert any(p.startswith(f"{repeated} events repeat another event") for p in f["problems"]) == bool(repeated)
    assert round(f["case_duration_days"]["mean"], 1) == mean
    assert round(f["case_duration_days"]["median"], 2 if median < 1 else 1) == median
    without = analyse(read_log(DATA / name, drop_duplicates=True))
    assert (without["cases"], without["events"]) == (cases, events)
    assert (f"{repeated} exact duplicate events were dropped" in without["problems"]) == bool(repeated)


def test_analyse_on_helpdesk_matches_a_plain_python_recomputation() -> None:
    ns = "{http://www.xes-standard.org}"
    root = ET.fromstring(gzip.decompress((DATA / "Helpdesk.xes.gz").read_bytes()))
    traces = []
    for tr in root.iter(f"{ns}trace"):
        events = []
        for ev in tr.findall(f"{ns}event"):
            a = {c.get("key", ""): c.get("value", "") for c in ev}
            events.append((datetime.fromisoformat(a["time:timestamp"]), a["concept:name"], a["org:resource"]))
        traces.append(sorted(events, key=lambda e: e[0]))  # stable: file order among equal times
    durations = [(t[-1][0] - t[0][0]).total_seconds() / 86400 for t in traces]
    df: dict[tuple[str, str], list[float]] = defaultdict(list)
    handovers = pingpong = 0
    for t in traces:
        for x, y in itertools.pairwise(t):
            df[(x[1], y[1])].append((y[0] - x[0]).total_seconds())
            handovers += x[2] != y[2]
        runs = [r for i, r in enumerate(e[2] for e in t) if i == 0 or t[i - 1][2] != r]
        pingpong += any(runs[i] == runs[i + 2] for i in range(len(runs) - 2))
    f = analyse(read_log(DATA / "Helpdesk.xes.gz"), "org:resource")
    assert f["events"] == sum(map(len, traces))
    assert f["variants"] == len(Counter(tuple(e[1] for e in t) for t in traces))
    assert f["case_duration_days"]["mean"] == pytest.approx(statistics.fmean(durations))
    assert f["case_duration_days"]["median"] == pytest.approx(statistics.median(durations))
    assert f["case_duration_days"]["p90"] == pytest.approx(statistics.quantiles(durations, n=10, method="inclusive")[-1])
    got = {(r["from"], r["to"]): (r["count"], r["mean_seconds"]) for r in f["directly_follows"]}
    assert got.keys() == df.keys()
    for k, v in df.items():
        assert got[k][0] == len(v) and got[k][1] == pytest.approx(statistics.fmean(v))
    assert f["handovers_per_case"] == pytest.approx(handovers / len(traces))
    assert f["ping_pong_rate"] == pytest.approx(pingpong / len(traces))


@pytest.mark.parametrize("name", ["env_permit.xes.gz", "Helpdesk.xes.gz"])
def test_a_real_log_round_trips_through_our_xes_and_csv(name, tmp_path) -> None:
    from tandem.engines.eventlog import write_log

    first = read_log(DATA / name)
    write_log(first, tmp_path / "x.xes.gz")
    second = read_log(tmp_path / "x.xes.gz")
    write_log(second, tmp_path / "x.csv")
    third = read_log(tmp_path / "x.csv")
    for other in (second, third):
        assert other.case.values() == first.case.values()
        assert other.activity.values() == first.activity.values()
        assert (other.time == first.time).all()
        for key, col in first.attributes.items():
            assert other.attributes[key].values() == col.values(), key
        for key, col in first.case_attributes.items():
            assert other.case_attributes[key].values() == col.values(), key
    assert second.types == first.types and second.case_types == first.case_types
