"""Fitting, calibrating, saving and applying the remaining-time model (LightGBM quantile boosting)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from tandem.engines.eventlog import EventLog
from tandem.engines.promise.calibration import WINDOW_CASES, conformal, online_shifts
from tandem.engines.promise.features import (
    US_PER_DAY,
    FeatureSpec,
    Prefixes,
    PromiseError,
    _token_names,
    features,
    learn_spec,
    prefixes,
    uses_lifecycle,
)
from tandem.engines.promise.queue import QueueSpec, case_states, learn_queue

FORMAT = "tandem-promise/2"
QUANTILES = (0.8, 0.9)
VALIDATION_SHARE = 0.2  # of the fitting cases, the latest by start: for choosing and calibrating
HALF_LIVES = (0.5, 0.25)  # recency weighting of training cases, as a share of the fitting span
LEAVES = ((31, 50), (15, 20), (63, 100))  # (num_leaves, min_data_in_leaf), searched in this order
# One thread: on a shared 2-core machine OpenMP threads spin-wait, and two threads were measured up to
# 15 times slower than one under load (100 rounds on BPIC 2012 W: 38.5 s against 2.6 s).
THREADS = 1
UPPER_ROUNDS = 200  # the quantile boosters (learning rate 0.1) converge slowly; calibration absorbs what more
# rounds would add, and fewer trees keep predictions fast (env permit took 1,300 rounds at 0.05: 6,000/s)
TIME_BUDGET_S = 40.0  # the search averages fewer tree shapes when the whole fit would not fit in this


@dataclass
class Quotes:
    """Remaining time in days after the k-th event of each case; p50 ≤ p80 ≤ p90."""

    case_id: list[str]
    k: np.ndarray
    p50: np.ndarray
    p80: np.ndarray
    p90: np.ndarray

    def records(self) -> list[dict[str, Any]]:
        return [{"case_id": c, "k": k, "p50_days": a, "p80_days": b, "p90_days": d}
                for c, k, a, b, d in zip(self.case_id, self.k.tolist(), np.round(self.p50, 6).tolist(),
                                         np.round(self.p80, 6).tolist(), np.round(self.p90, 6).tolist(), strict=True)]


@dataclass
class PromiseModel:
    """A fitted model: the feature vocabularies, one booster per quantile and the calibration shifts."""

    spec: FeatureSpec
    p50: list[lgb.Booster]  # L1 boosters in log1p(days); P50 is the mean of their predictions
    upper: dict[float, lgb.Booster]  # alpha -> quantile booster, in log1p(days)
    shifts: dict[str, dict[float, float]]  # "k1" / "k2+" -> alpha -> additive shift in log1p(days)
    info: dict[str, Any] = field(default_factory=dict)  # what was chosen and measured at fit time
    # Online calibration (calibration.py): cases started after this instant are out of sample for the
    # quantile boosters; the k >= 2 window holds this many prefixes. None: the static shifts only.
    calibrate_after_us: int | None = None
    window_prefixes: int = WINDOW_CASES

    def predict_matrix(self, X: np.ndarray, k: np.ndarray, shifts: Mapping[float, np.ndarray] | None = None,
                       raw: Mapping[float, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P50, P80, P90 in days for a feature matrix (columns ``spec.names``) whose rows have prefix lengths k.

        ``shifts`` (per alpha, one per row, in log1p(days)) replaces the static calibration shifts; ``raw``,
        the upper boosters' predictions of ``X`` when already computed.
        """
        p50 = np.maximum(np.expm1(self.raw_p50(X)), 0.0)
        out = [p50]
        raw = raw if raw is not None else self.raw_upper(X)
        first = k == 1
        for alpha in QUANTILES:
            shift = shifts[alpha] if shifts is not None else np.where(
                first, self.shifts["k1"][alpha], self.shifts["k2+"][alpha])
            out.append(np.maximum(np.expm1(raw[alpha] + shift), 0.0))
        p80 = np.maximum(out[1], p50)
        p90 = np.maximum(out[2], p80)
        return p50, p80, p90

    def raw_p50(self, X: np.ndarray) -> np.ndarray:
        return np.mean([b.predict(X, num_threads=THREADS) for b in self.p50], axis=0)

    def raw_upper(self, X: np.ndarray) -> dict[float, np.ndarray]:
        return {alpha: np.asarray(self.upper[alpha].predict(X, num_threads=THREADS)) for alpha in QUANTILES}

    def predict_prefixes(self, log: EventLog, *, include_last: bool = False,
                         extra_features: Mapping[str, np.ndarray] | None = None, online: bool = False) -> Quotes:
        """Quotes for every (case, k) of ``log`` with k < its length (k ≤ length with ``include_last``).

        Each uses the case's first k events and the events of other cases up to the k-th event's time. The
        P80/P90 shifts are those fixed at fit time; with ``online``, they are recomputed every day from the
        cases of ``log`` started and ended before (calibration.py; measured less well calibrated on three
        logs of four, so not the default: docs/promises.md says why).
        """
        every = prefixes(log, include_last=True)
        X = features(log, self.spec, every, extra_features)
        raw = self.raw_upper(X)
        shifts = self.online(log, every, raw) if online and self.calibrate_after_us is not None else None
        p50, p80, p90 = self.predict_matrix(X, every.k, shifts, raw)
        keep = slice(None) if include_last else every.k < every.length
        names = np.array(log.case.names, dtype=object)
        return Quotes(names[every.case[keep]].tolist(), every.k[keep], p50[keep], p80[keep], p90[keep])

    def online(self, log: EventLog, every: Prefixes, raw: Mapping[float, np.ndarray]) -> dict[float, np.ndarray]:
        """The shifts of every prefix (``every``: all events of ``log``; ``raw``: the upper boosters' predictions)."""
        codes, names = _token_names(log, self.spec.use_lifecycle)
        queue = self.spec.queue or QueueSpec.from_dict(self.info["ends"])
        states = case_states(log, codes, names, queue)
        bounds = log.case_bounds()
        start_at = np.full(len(log.case.names), np.iinfo(np.int64).min, dtype=np.int64)
        start_at[log.case.codes[bounds[:-1]]] = log.time[bounds[:-1]]
        assert self.calibrate_after_us is not None
        return online_shifts(start_at=start_at, first_end_event=states.first_end_event,
                             first_end_at=states.first_end_at, case_bounds=bounds, case_codes=log.case.codes,
                             after_us=self.calibrate_after_us,
                             row_case=every.case, row_k=every.k, row_event=every.event, time=log.time,
                             raw=raw, static=self.shifts, window_prefixes=self.window_prefixes)

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "spec": self.spec.to_dict(),
            "shifts": {g: {str(a): v for a, v in s.items()} for g, s in self.shifts.items()},
            "info": self.info,
            "calibrate_after_us": self.calibrate_after_us,
            "window_prefixes": self.window_prefixes,
            "p50": [b.model_to_string() for b in self.p50],
            "upper": {str(a): b.model_to_string() for a, b in self.upper.items()},
        })

    @classmethod
    def from_json(cls, text: str) -> PromiseModel:
        """The inverse of :meth:`to_json`; PromiseError for anything that is not a saved model."""
        try:
            d = json.loads(text)
            if isinstance(d, dict) and d.get("format") == "tandem-promise/1":
                raise PromiseError("the model file was written by an earlier version of Tandem; fit it again")
            if not isinstance(d, dict) or d.get("format") != FORMAT:
                raise PromiseError(f"not a Tandem promise model (expected format {FORMAT!r})")
            return cls(
                spec=FeatureSpec.from_dict(d["spec"]),
                p50=[lgb.Booster(model_str=t) for t in d["p50"]],
                upper={float(a): lgb.Booster(model_str=s) for a, s in d["upper"].items()},
                shifts={g: {float(a): float(v) for a, v in s.items()} for g, s in d["shifts"].items()},
                info=dict(d.get("info", {})),
                calibrate_after_us=None if d["calibrate_after_us"] is None else int(d["calibrate_after_us"]),
                window_prefixes=int(d["window_prefixes"]),
            )
        except PromiseError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, lgb.basic.LightGBMError) as exc:
            why = type(exc).__name__
            raise PromiseError(f"the model file is damaged or not a Tandem promise model ({why})") from exc


def _params(leaves: int, min_data: int, objective: str, alpha: float | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"objective": objective, "learning_rate": 0.05, "num_leaves": leaves,
                         "min_data_in_leaf": min_data, "feature_fraction": 0.9, "num_threads": THREADS, "verbose": -1,
                         "seed": 0, "deterministic": True, "max_bin": 255, "max_cat_to_onehot": 8}
    if alpha is not None:
        p["alpha"] = alpha
        p["learning_rate"] = 0.1
    return p


def case_start_order(log: EventLog) -> np.ndarray:
    """Case codes sorted by the time of their first event (ties: log order)."""
    starts = log.case_bounds()[:-1]
    order = np.argsort(log.time[starts], kind="stable")
    return log.case.codes[starts][order]


def _weights(start_days: np.ndarray, half_life: float | None, newest: float, span: float) -> np.ndarray | None:
    if half_life is None:
        return None
    return 0.5 ** ((newest - start_days) / (half_life * max(span, 1e-9)))


def _train(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, params: dict[str, Any], cat: list[int],
           rounds: int, valid: tuple[np.ndarray, np.ndarray] | None = None) -> lgb.Booster:
    data = lgb.Dataset(X, y, weight=w, categorical_feature=cat, free_raw_data=True)
    if valid is None:
        return lgb.train(params, data, rounds)
    v = lgb.Dataset(valid[0], valid[1], reference=data, categorical_feature=cat)
    return lgb.train(params, data, rounds, valid_sets=[v], callbacks=[lgb.early_stopping(30, verbose=False)])


def select_cases(log: EventLog, keep_case: np.ndarray) -> EventLog:
    """The events of the cases whose code is True in ``keep_case`` (names and case attributes unchanged)."""
    idx = np.flatnonzero(keep_case[log.case.codes])
    return EventLog(case=log.case.take(idx), activity=log.activity.take(idx), time=log.time[idx],
                    attributes={k: a.take(idx) for k, a in log.attributes.items()}, types=dict(log.types),
                    case_attributes=dict(log.case_attributes), case_types=dict(log.case_types),
                    problems=list(log.problems))


def check_fittable(log: EventLog) -> None:
    if log.n_cases < 2:
        raise PromiseError(f"the log has {log.n_cases} case(s); fitting needs several cases")
    if not (np.diff(log.case_bounds()) >= 2).any():
        raise PromiseError("no case has two or more events, so there is no remaining time to learn from")
    if len(log) and log.time.min() == log.time.max():
        raise PromiseError("every event has the same timestamp, so there is no time to learn from")


def fit(log: EventLog, *, cases: np.ndarray | None = None, case_attributes: Sequence[str] = (),
        extra_features: Mapping[str, np.ndarray] | None = None, max_rounds: int = 600,
        time_budget_s: float = TIME_BUDGET_S, queue_features: bool = True,
        leave_out: Sequence[str] = ()) -> PromiseModel:
    """Fit on the cases of ``log`` (all assumed complete), or on those whose code is True in ``cases``.

    With ``cases``, the other cases of the log are context only: they count in the load features (events
    up to each prefix's instant), their remaining times are never used. Hyper-parameters are chosen on
    the latest ``VALIDATION_SHARE`` of the fitted cases by start time, calibration shifts are measured
    there, then the boosters are refitted on all fitted cases with the chosen number of rounds. When the
    search runs past its share of ``time_budget_s`` (a slow or busy machine), fewer tree shapes are averaged.
    ``queue_features=False`` gives the queue-blind model (no inter-case column); ``leave_out`` drops named
    columns (to measure what they add).
    """
    t0 = time.perf_counter()
    if cases is None:
        cases = np.ones(len(log.case.names), dtype=bool)
    own = select_cases(log, cases)
    check_fittable(own)
    spec = learn_spec(own, case_attributes, list(extra_features or {}), queue_features=queue_features,
                      leave_out=leave_out)
    rows = prefixes(log)
    X = features(log, spec, rows, extra_features)
    mine = cases[rows.case]
    rows = Prefixes(rows.case[mine], rows.k[mine], rows.event[mine], rows.length[mine], rows.remaining_days[mine])
    X = X[mine]
    y = rows.remaining_days
    ylog = np.log1p(y)
    cat = spec.categorical
    order = case_start_order(own)
    n_train = max(1, round(len(order) * (1 - VALIDATION_SHARE)))
    in_train = np.zeros(len(log.case.names), dtype=bool)
    in_train[order[:n_train]] = True
    tr = in_train[rows.case]
    va = ~tr
    if not va.any() or not tr.any():  # too few cases to hold any out: validate on the training rows
        va = tr = np.ones(len(y), dtype=bool)
    bounds = log.case_bounds()
    case_start = np.zeros(len(log.case.names), dtype=np.int64)
    case_start[log.case.codes[bounds[:-1]]] = log.time[bounds[:-1]]
    start_days = case_start[rows.case] / US_PER_DAY
    newest_tr, oldest = start_days[tr].max(), start_days.min()
    newest_all = start_days.max()

    # 1. P50: the mean of L1 boosters in log1p(days), one per tree shape. Recency weighting (a half-life
    # as a share of the fitting span, or none) is chosen on the validation cases with the first shape.
    trials: list[dict[str, Any]] = []

    durations: list[float] = []

    def trial(half_life: float | None, leaves: int, min_data: int) -> dict[str, Any]:
        started = time.perf_counter()
        w = _weights(start_days[tr], half_life, newest_tr, newest_tr - oldest)
        b = _train(X[tr], ylog[tr], w, _params(leaves, min_data, "l1"), cat, max_rounds, (X[va], ylog[va]))
        pred = b.predict(X[va], num_iteration=b.best_iteration, num_threads=THREADS)
        mae = float(np.abs(np.maximum(np.expm1(pred), 0) - y[va]).mean())
        result = {"half_life": half_life, "num_leaves": leaves, "min_data_in_leaf": min_data,
                  "rounds": max(1, b.best_iteration), "validation_mae_days": round(mae, 4)}
        trials.append(result)
        durations.append(time.perf_counter() - started)
        return result

    def affordable(n_shapes: int) -> bool:
        """Do one more trial, the quantile boosters (fit and refit) and n_shapes refits fit in the budget?"""
        per = float(np.mean(durations))
        return time.perf_counter() - t0 + per * (1 + len(QUANTILES) + 1.3 * n_shapes) < time_budget_s

    firsts = [trial(HALF_LIVES[0], *LEAVES[0])]
    firsts += [trial(hl, *LEAVES[0]) for hl in HALF_LIVES[1:] if affordable(1)]
    best = min(firsts, key=lambda r: r["validation_mae_days"])
    half_life = best["half_life"]
    shapes = list(firsts)  # every half-life tried joins the average, the best one goes on with other shapes
    for shape in LEAVES[1:]:  # more shapes to average while the fit stays within its time budget
        if affordable(len(shapes) + 1):
            shapes.append(trial(half_life, *shape))
    # 2. Upper quantiles in log1p(days), same shape and weighting; conformal shifts on the validation cases.
    w_tr = _weights(start_days[tr], half_life, newest_tr, newest_tr - oldest)
    upper_rounds: dict[float, int] = {}
    shifts: dict[str, dict[float, float]] = {"k1": {}, "k2+": {}}
    first = rows.k[va] == 1
    for alpha in QUANTILES:
        params = _params(*LEAVES[0], "quantile", alpha)
        b = _train(X[tr], ylog[tr], w_tr, params, cat, min(max_rounds, UPPER_ROUNDS), (X[va], ylog[va]))
        upper_rounds[alpha] = max(1, b.best_iteration)
        score = ylog[va] - b.predict(X[va], num_iteration=b.best_iteration, num_threads=THREADS)
        shifts["k1"][alpha] = conformal(score[first], alpha)
        shifts["k2+"][alpha] = conformal(score[~first], alpha)

    # 3. Refit on every case; a few more rounds for the extra data.
    grow = 1.0 + VALIDATION_SHARE
    p50 = [_train(X, ylog, _weights(start_days, r["half_life"], newest_all, newest_all - oldest),
                  _params(r["num_leaves"], r["min_data_in_leaf"], "l1"), cat, int(r["rounds"] * grow) + 1)
           for r in shapes]
    # Refitting the quantile boosters too matters where the process drifts: without it, env permit's
    # quotes were kept 87-89 % / 94 % of the time instead of 81 % / 91 % (the calibration shifts carry over).
    w_all = _weights(start_days, half_life, newest_all, newest_all - oldest)
    upper = {alpha: _train(X, ylog, w_all, _params(*LEAVES[0], "quantile", alpha), cat,
                           int(upper_rounds[alpha] * grow) + 1) for alpha in QUANTILES}
    # So every fitted case is in sample for them: the daily recalibration reads only later cases.
    ks_per_case = float((rows.k[va] >= 2).sum()) / max(1, int((rows.k[va] == 1).sum()))
    window_prefixes = max(WINDOW_CASES, round(WINDOW_CASES * ks_per_case))
    notes = list(spec.queue.notes) if spec.queue is not None else []
    ends = spec.queue.to_dict() if spec.queue is not None else _ends_only(own)
    info = {"notes": notes, "ends": ends, "half_life": half_life, "trials": trials,
            "upper_rounds": {str(a): r for a, r in upper_rounds.items()},
            "fit_cases": int(own.n_cases), "fit_prefixes": len(y),
            "fit_seconds": round(time.perf_counter() - t0, 3)}
    return PromiseModel(spec, p50, upper, shifts, info, calibrate_after_us=int(case_start[rows.case].max()),
                        window_prefixes=window_prefixes)


def _ends_only(own: EventLog) -> dict[str, Any]:
    """For a queue-blind model: the end rule the online calibration needs to know when a case ended."""
    codes, names = _token_names(own, uses_lifecycle(own))
    return learn_queue(own, codes, names).to_dict()

