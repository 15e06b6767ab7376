"""The per-case parts of the flow figures add up to ``analyse`` of the whole log."""

from __future__ import annotations

import numpy as np
import pytest

from tandem.engines.eventlog import analyse, read_log
from tandem.engines.eventlog.analyse import per_case


def test_the_per_case_parts_add_up_to_the_figures_of_the_log(tmp_path) -> None:
    p = tmp_path / "f.csv"
    p.write_text("case_id,activity,timestamp,group\n" + "\n".join([
        "p,a,2024-01-01T00:00:00Z,A", "p,b,2024-01-01T00:00:01Z,B", "p,c,2024-01-01T00:00:02Z,",
        "p,d,2024-01-01T00:00:03Z,B", "p,e,2024-01-01T00:00:04Z,A",  # runs A,B,A: ping-pong, 2 handovers
        "q,a,2024-01-02T00:00:00Z,A", "q,b,2024-01-03T00:00:00Z,B",  # 1 handover, no ping-pong
        "r,a,2024-01-04T00:00:00Z,A", "r,b,2024-01-04T00:00:10Z,B",  # q's path again
        "s,a,2024-01-05T00:00:00Z,A",  # one event: no pair, 0 days
    ]) + "\n")
    log = read_log(p)
    f, parts = analyse(log, "group"), per_case(log, "group")
    assert parts["events"].tolist() == [5, 2, 2, 1] and parts["handovers"].tolist() == [2, 1, 1, 0]
    assert parts["ping_pong"].tolist() == [True, False, False, False]
    assert parts["duration_seconds"].tolist() == [4.0, 86400.0, 10.0, 0.0]
    assert len(set(parts["sequence"])) == f["variants"] == 3
    assert parts["handovers"].sum() / log.n_cases == f["handovers_per_case"]
    assert parts["ping_pong"].sum() / log.n_cases == f["ping_pong_rate"]
    assert parts["duration_seconds"].mean() / 86400 == pytest.approx(f["case_duration_days"]["mean"])
    names = log.activity.names
    pairs: dict[tuple[str, str], list[float]] = {}
    for a, b, s in zip(parts["pair_from"].tolist(), parts["pair_to"].tolist(), parts["pair_seconds"].tolist(),
                       strict=True):
        acc = pairs.setdefault((names[a], names[b]), [0, 0.0])
        acc[0] += 1
        acc[1] += s
    assert {(r["from"], r["to"]): (r["count"], pytest.approx(r["mean_seconds"])) for r in f["directly_follows"]} == {
        k: (c, s / c) for k, (c, s) in pairs.items()}
    assert np.array_equal(np.unique(parts["pair_case"]), [0, 1, 2])
