"""Promises: how long a case still has to run, as calibrated quantiles. Pure (no Django).

The model is LightGBM gradient boosting on prefix features (docs/promises.md says why, with the
numbers): for the k-th event of a case, its activity (with lifecycle), the previous one, the bag of
activities so far, k, time elapsed and since the previous event, hour and weekday, the resource of the
event, optional case attributes (e.g. the service), the load of the whole log up to that instant
(case arrivals and events in the last 1, 7 and 30 days) and the queue (queue.py: throughput, drain
time, active resources, hours to the next opening, work in progress per case attribute; off in the
queue-blind model, ``queue_features=False``). P50 is the mean of a few boosters fitted with the L1
loss on log1p(days) (it minimises the mean absolute error), cases weighted by recency; P80 and P90 use
the quantile loss in log1p(days) and are then shifted by split conformal calibration on the latest
fifth of the fitting cases, separately for k = 1 (the quote given at submission) and k ≥ 2, or, with
``predict_prefixes(..., online=True)``, by shifts recomputed every day from the cases ended before
(calibration.py). Hyper-parameters are chosen on that same validation fifth, never by hand.

API (all times in days; a log is a :class:`tandem.engines.eventlog.EventLog`)::

    model = fit(log, case_attributes=("service",), extra_features={"queue_ahead_hours": per_event})
    quotes = model.predict_prefixes(log)            # every (case, k) with k < case length
    quotes = model.predict_prefixes(log, include_last=True)   # also after the last event: open cases
    quotes.case_id, quotes.k, quotes.p50, quotes.p80, quotes.p90; quotes.records()
    text = model.to_json(); model = PromiseModel.from_json(text)   # JSON only, no pickle
    figures = evaluate(log)                         # the 80/20 protocol and rolling origins (docs/promises.md)

``case_attributes`` names categorical case attributes of the log (``log.case_attributes``).
``extra_features`` maps a name to one float per event of the log (aligned with ``log.time``), the
value known at that event's time, e.g. the queue ahead or the capacity on shift; the same names must
be given to ``predict_prefixes``. Every feature of (case, k) uses only events with a timestamp at or
before the k-th event's, so a quote never changes when later events are removed from the log.
Bad input raises :class:`PromiseError` with a message for a person.
"""

from __future__ import annotations

from tandem.engines.promise.evaluate import check_input, evaluate, split, truncate
from tandem.engines.promise.features import FeatureSpec, PromiseError
from tandem.engines.promise.model import PromiseModel, Quotes, fit, select_cases

__all__ = ["FeatureSpec", "PromiseError", "PromiseModel", "Quotes", "check_input", "evaluate", "fit", "select_cases",
           "split", "truncate"]
