"""The queue features against a plain-Python recount on a small hand-made log, and their fallbacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tandem.engines.eventlog import read_log
from tandem.engines.promise import PromiseError, evaluate, fit
from tandem.engines.promise.features import _remap, _token_names, prefixes
from tandem.engines.promise.queue import US_PER_DAY, QueueSpec, learn_queue, queue_features
from tandem.engines.tests.test_promise import synthetic

DAY = 86_400
# (case, activity, day, resource): "close" ends a case; c4 falls silent after day 3 and never closes.
EVENTS = [
    ("c1", "open", 0.0, "ann"), ("c1", "work", 1.0, "bob"), ("c1", "close", 2.0, "bob"),
    ("c2", "open", 0.5, "bob"), ("c2", "work", 3.0, "ann"), ("c2", "close", 6.0, "ann"),
    ("c3", "open", 1.5, "ann"), ("c3", "close", 1.75, "ann"),
    ("c4", "open", 2.5, "cid"), ("c4", "work", 3.0, "cid"),
    ("c5", "open", 4.0, "ann"), ("c5", "work", 5.0, "bob"), ("c5", "work", 12.0, "bob"), ("c5", "close", 13.0, "ann"),
    ("c6", "open", 9.0, "bob"), ("c6", "close", 30.0, "bob"),
]
SILENCE_DAYS = 4.0


def handmade(tmp_path: Path) -> Path:
    lines = ["case_id,activity,timestamp,resource"]
    for case, act, day, res in EVENTS:
        stamp = np.datetime64("2024-01-01T00:00:00") + np.timedelta64(int(day * DAY), "s")
        lines.append(f"{case},{act},{stamp}Z,{res}")
    path = tmp_path / "handmade.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def recount(t: float, activity: str | None = None, resource: str | None = None) -> int:
    """Open cases at day t, by the definition: started, latest event by t not "close", silent < SILENCE_DAYS."""
    n = 0
    for case in sorted({e[0] for e in EVENTS}):
        seen = [e for e in EVENTS if e[0] == case and e[2] <= t]
        if not seen:
            continue
        _, act, day, res = seen[-1]
        if act != "close" and t - day < SILENCE_DAYS and activity in (None, act) and resource in (None, res):
            n += 1
    return n


def ended_between(a: float, b: float) -> int:
    """Cases that ended in (a, b]: a "close" reached while open, or SILENCE_DAYS after a silent open event."""
    n = 0
    for case in sorted({e[0] for e in EVENTS}):
        ev = [e for e in EVENTS if e[0] == case]
        for i, (_, act, day, _) in enumerate(ev):
            nxt = ev[i + 1][2] if i + 1 < len(ev) else None
            prev_open = i == 0 or (ev[i - 1][1] != "close" and day - ev[i - 1][2] <= SILENCE_DAYS)
            if act == "close" and prev_open and a < day <= b:
                n += 1
            if act != "close" and (nxt is None or nxt > day + SILENCE_DAYS) and a < day + SILENCE_DAYS <= b:
                n += 1
    return n


def test_the_queue_features_match_a_plain_python_recount(tmp_path) -> None:
    log = read_log(handmade(tmp_path))
    codes, names = _token_names(log, False)
    spec = QueueSpec(["close"], int(SILENCE_DAYS * US_PER_DAY), [True] * 168, True)
    res = log.attributes["org:resource"]
    rows = prefixes(log, include_last=True)
    X, _ = queue_features(log, spec, codes, names, _remap(codes, names, names), _remap(res.codes, res.names, res.names),
                          rows.event)
    col = {n.removeprefix("queue:"): i for i, n in enumerate(spec.computed_names)}
    t0 = log.time.min()
    for i, ev in enumerate(rows.event.tolist()):
        t = (log.time[ev] - t0) / US_PER_DAY
        act, res_name = names[codes[ev]], res.names[res.codes[ev]]
        assert X[i, col["wip"]] == recount(t), (t, act)
        assert X[i, col["wip_activity"]] == recount(t, activity=act), (t, act)
        assert X[i, col["wip_resource"]] == recount(t, resource=res_name), (t, res_name)
        for d in (1, 5, 20):
            assert X[i, col[f"done_{d}d"]] == ended_between(t - d, t), (t, d)
        per_day = ended_between(t - 20, t) / 20
        if per_day:
            assert X[i, col["drain_days"]] == pytest.approx(recount(t) / per_day)
        else:
            assert np.isnan(X[i, col["drain_days"]])  # unknown, never a made-up number
        active = {e[3] for e in EVENTS if t - 7 < e[2] <= t}
        assert X[i, col["resources_active_7d"]] == len(active)
    # a few known answers, by hand: at day 3.0 c2 (work), c4 (work) and c5-not-yet: c1, c3 closed
    at_day_3 = [i for i, ev in enumerate(rows.event.tolist()) if (log.time[ev] - t0) == 3 * US_PER_DAY]
    assert {float(X[i, col["wip"]]) for i in at_day_3} == {2.0}
    # ends by day 20: c3 (1.75), c1 (2), c2 (6), c4 silent (7), c5 silent (9), c6 silent (13), and c5 again at 13:
    # its work on day 12 reopened it after the silence
    assert ended_between(0, 20) == 7


def test_the_ends_and_opening_hours_are_learnt_from_the_fitting_cases(tmp_path) -> None:
    log = read_log(handmade(tmp_path))
    codes, names = _token_names(log, False)
    q = learn_queue(log, codes, names)
    assert q.end_tokens == ["close"] and q.resources and not q.notes
    hours = np.array(q.open_hours)
    assert hours.sum() < 168 and hours[0]  # Monday 00:00 UTC had events, most hours did not


def test_the_queue_blind_model_has_no_inter_case_column_and_online_calibration_moves_quotes(tmp_path) -> None:
    log = read_log(synthetic(tmp_path, n_cases=300))
    early = np.zeros(len(log.case.names), dtype=bool)
    early[:150] = True  # cases are in start order: the daily recalibration reads the later ones
    full, blind = fit(log, cases=early), fit(log, cases=early, queue_features=False)
    assert "queue:drain_days" in full.spec.names and "arrivals_1d" in full.spec.names
    assert "queue:wip" not in full.spec.names  # computed, measured, not read (queue.NOT_USED)
    assert not [n for n in blind.spec.names if n.startswith(("queue:", "arrivals_", "events_"))]
    online, static = full.predict_prefixes(log, online=True), full.predict_prefixes(log)
    assert np.array_equal(online.p50, static.p50) and not np.array_equal(online.p80, static.p80)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "log.csv"
    p.write_text(text)
    return p


def test_a_log_whose_events_share_one_instant_is_refused(tmp_path) -> None:
    text = "case_id,activity,timestamp\n" + "".join(f"c{i},{a},2024-01-01T09:00:00Z\n" for i in range(5) for a in "ab")
    with pytest.raises(PromiseError, match="same timestamp"):
        fit(read_log(write(tmp_path, text)))


def test_without_a_learnable_end_activity_the_silence_rule_is_used_and_said(tmp_path) -> None:
    # Every activity ends some cases and not others: none ends most of the cases it appears in.
    rng = np.random.default_rng(3)
    lines = ["case_id,activity,timestamp"]
    for c in range(60):
        route = ["a", "b", "c"] if c % 2 else ["b", "c", "a"]
        route = route[: 2 + c % 2] + ["a", "b", "c"][: c % 3]
        t = np.datetime64("2024-01-01T00:00:00") + np.timedelta64(c * 6, "h")
        for act in route:
            lines.append(f"c{c},{act},{t}Z")
            t += np.timedelta64(int(rng.integers(1, 48)), "h")
    log = read_log(write(tmp_path, "\n".join(lines) + "\n"))
    model = fit(log)
    assert model.spec.queue is not None and model.spec.queue.end_tokens == []
    assert any("falls silent" in n for n in model.info["notes"]) and any("no resources" in n for n in model.info["notes"])
    figures = evaluate(log)
    assert any("falls silent" in n for n in figures["notes"])


def km_by_hand(scores: list[float], ended: list[bool], level: float) -> float | None:
    """Kaplan–Meier in plain Python: walk the sorted scores, multiply the survival at each end."""
    pairs = sorted(zip(scores, [not e for e in ended], strict=True))  # ends before censorings at a tie
    surv, at_risk = 1.0, len(pairs)
    for s, censored in pairs:
        if not censored:
            surv *= 1 - 1 / at_risk
            if 1 - surv >= level - 1e-12:
                return s
        at_risk -= 1
    return None


def test_the_kaplan_meier_quantile_matches_a_recount_and_the_conformal_rank_without_censoring() -> None:
    from tandem.engines.promise.calibration import km_quantile

    rng = np.random.default_rng(7)
    for n in (5, 31, 200):
        scores = rng.normal(size=n)
        none = np.ones(n, dtype=bool)
        for alpha in (0.8, 0.9):
            rank = min(n, int(np.ceil((n + 1) * alpha - 1e-9)))  # the textbook split-conformal rank
            assert km_quantile(scores, none, alpha) == pytest.approx(np.sort(scores)[rank - 1])
            ended = rng.random(n) < 0.7
            level = min(1.0, (n + 1) * alpha / n)
            assert km_quantile(scores, ended, alpha) == km_by_hand(scores.tolist(), ended.tolist(), level)


def test_the_calibration_window_is_the_latest_with_95_percent_of_its_cases_ended() -> None:
    from tandem.engines.promise.calibration import last_window

    ended = np.array([True] * 60 + [False] * 30)
    ended[50] = False
    assert last_window(ended, 40) == 61  # cases 21..60: 2 running (50 and 60), 95 % ended; 22..61 has 3
    assert last_window(ended[:20], 40) is None  # too few
    assert last_window(np.zeros(50, dtype=bool), 40) is None  # nothing ended
