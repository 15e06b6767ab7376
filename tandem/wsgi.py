import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
application = get_wsgi_application()


def settle() -> None:
    """Take what the process loaded to serve (settings, apps, models, URL patterns and the views
    behind them) out of the cyclic garbage collector's way: it lives as long as the process.

    A page that allocates many objects at once (the change calendar at 1,000 changes: some tens of
    thousands) sets off a full collection, which walked every one of these long-lived objects too:
    50 to 150 ms of a 300 ms budget (docs/benchmarks.md, the change calendar). Frozen, they are no
    longer walked. Each gunicorn worker imports this module, so each worker settles once."""
    get_resolver().url_patterns  # noqa: B018 - loaded now (else on the first request), to be frozen with the rest
    gc.collect()
    gc.freeze()


settle()
