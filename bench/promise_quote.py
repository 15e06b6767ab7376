"""The product's quote with the promise engine, on the demo: the night's fit as the worker runs it
(``tandem.promises.engine.fit_due``: a back-test fit, then the fit on every resolved request), then the
quote beside the submit form (``tandem.promises.queries.quote``) timed for every active service, each as
one of the requesting unit's people would ask it, with the stored model and with the neighbour rule alone.

    python bench/promise_quote.py                              # builds the demo in a temporary directory
    python bench/promise_quote.py --data-dir /tmp/tandem-demo  # reuses a built demo (and its fitted model)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _demo import open_demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="", help="TANDEM_DATA_DIR with a demo (built when empty)")
    parser.add_argument("--rounds", type=int, default=5, help="quotes per service and method")
    args = parser.parse_args()
    open_demo(args.data_dir, "tandem-quote-")

    from django.utils import timezone

    from tandem.catalogue.models import Service
    from tandem.insights.logs import database_log
    from tandem.org.models import Person
    from tandem.promises import books, engine
    from tandem.promises.models import Basis, EngineFit
    from tandem.promises.queries import quote
    from tandem.work.models import ServiceRequest

    now = timezone.now()
    row = EngineFit.objects.filter(state=EngineFit.State.FITTED).order_by("-fitted_at").first()
    if row is None:
        night = timezone.localtime(now).replace(hour=2, minute=0, second=0, microsecond=0)
        row = engine.fit_due(database_log, night)
        assert row is not None
        if row.state != EngineFit.State.FITTED:
            sys.exit(f"the fit failed: {row.reason}")
    stored = ServiceRequest.objects.count()
    print(f"fit: {row.cases} resolved requests of {stored} stored, {row.fit_seconds} s (back-test fit and final "
          f"fit); back-test {row.figures}")
    services = list(Service.objects.filter(active=True).select_related("unit"))
    asker = {s.pk: Person.objects.exclude(unit=s.unit).select_related("user").first() for s in services}
    took: dict[str, list[float]] = {"engine": [], "neighbour": []}
    bases: dict[str, set[str]] = {"engine": set(), "neighbour": set()}
    for method in ("engine", "neighbour"):
        if method == "neighbour":
            EngineFit.objects.filter(pk=row.pk).update(state=EngineFit.State.FAILED)
        engine.forget()
        try:
            for s in services:
                person = asker[s.pk]
                if person is None:
                    continue
                quote(s, person, now=now)  # the unit's book and the model parsed once, as a running server has them
                for r in range(args.rounds):
                    began = time.perf_counter()
                    q = quote(s, person, now=now + timedelta(seconds=r + 1))
                    took[method].append(time.perf_counter() - began)
                    bases[method].add(q.basis)
        finally:
            EngineFit.objects.filter(pk=row.pk).update(state=EngineFit.State.FITTED)
    books.forget_books()
    for method, times in took.items():
        ms = 1000 * np.array(times)
        print(f"quote ({method:<9}) {len(ms)} quotes: median {np.median(ms):.1f} ms, "
              f"p95 {np.quantile(ms, 0.95):.1f} ms, max {ms.max():.1f} ms; bases {sorted(bases[method])}")
    assert Basis.ENGINE in bases["engine"]
    print(f"stored requests {stored}; load average {[round(x, 1) for x in os.getloadavg()]}")


if __name__ == "__main__":
    main()
