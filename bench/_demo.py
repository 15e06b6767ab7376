"""Opening the demo for a benchmark: Django set up on ``data_dir`` (a fresh temporary one when empty),
migrated, and the demo built when the database is empty."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def open_demo(data_dir: str, prefix: str) -> None:
    os.environ["TANDEM_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix=prefix)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from tandem.demo.load import build_demo, database_is_empty

    call_command("migrate", verbosity=0)
    if database_is_empty():
        build_demo()
