"""Internal work is not starved: promises kept on the internal and the customer channel, per
back-office unit of the demo and overall, with the gap in points against the target (3).

Builds the demo into a temporary SQLite folder (as ``bench/demo_build.py`` does), or reads one
already built with ``--data-dir``, and counts the promises whose outcome is known, as the
promise integrity report does: a request resolved by its promised time kept it; one resolved
later, or still open past it, broke it; cancelled requests and open ones not yet due are left
out. The target: on every back-office unit with both channels, and overall, the share kept on
one channel is within 3 points of the other.

    python bench/channel_parity.py                       # build the demo, then measure
    python bench/channel_parity.py --data-dir /tmp/demo  # measure (building it there if empty)
    python bench/channel_parity.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_POINTS = 3.0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="", help="read (or build into) this TANDEM_DATA_DIR and keep it")
    parser.add_argument("--weeks", type=int, default=26, help="weeks of history when building (default 26)")
    parser.add_argument("--seed", type=int, default=2026, help="simulation seed when building (default 2026)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args()


def share(kept: int, total: int) -> float | None:
    return 100.0 * kept / total if total else None


def measure() -> dict[str, Any]:
    from django.db.models import Max, Q

    from tandem.org.models import Side, Unit
    from tandem.promises.models import Promise
    from tandem.work.models import OPEN_STATUSES, Channel, Event, Status

    now = Event.objects.aggregate(end=Max("at"))["end"]
    known = Q(request__resolved_at__isnull=False) | (
        Q(request__resolved_at__isnull=True, promised_at__lt=now) & Q(request__status__in=OPEN_STATUSES)
    )
    rows = (
        Promise.objects.filter(known).exclude(request__status=Status.CANCELLED)
        .values_list("unit_id", "request__channel", "promised_at", "request__resolved_at")
    )
    counts: dict[tuple[int, str], list[int]] = {}
    for unit_id, channel, promised, resolved in rows.iterator(chunk_size=5000):
        cell = counts.setdefault((unit_id, channel), [0, 0])
        cell[1] += 1
        cell[0] += resolved is not None and resolved <= promised
    units = []
    total = {Channel.INTERNAL: [0, 0], Channel.EXTERNAL: [0, 0]}
    for unit in Unit.objects.filter(side=Side.BACK).order_by("name"):
        row: dict[str, Any] = {"unit": unit.name, "order": unit.queue_order_label}
        for channel in (Channel.INTERNAL, Channel.EXTERNAL):
            kept, n = counts.get((unit.pk, channel), [0, 0])
            total[channel][0] += kept
            total[channel][1] += n
            row[channel.value] = {"promises": n, "kept": kept, "kept_pct": share(kept, n)}
        a, b = row["internal"]["kept_pct"], row["external"]["kept_pct"]
        row["gap_points"] = None if a is None or b is None else abs(a - b)
        units.append(row)
    overall: dict[str, Any] = {
        c.value: {"promises": total[c][1], "kept": total[c][0], "kept_pct": share(*total[c])} for c in total
    }
    a, b = overall["internal"]["kept_pct"], overall["external"]["kept_pct"]
    overall["gap_points"] = None if a is None or b is None else abs(a - b)
    both = [u for u in units if u["gap_points"] is not None]
    worst = max((u["gap_points"] for u in both), default=None)
    return {
        "history_end": now.isoformat() if now else None, "target_points": TARGET_POINTS, "units": units,
        "overall": overall, "worst_unit_gap_points": worst,
        "met": overall["gap_points"] is not None and overall["gap_points"] <= TARGET_POINTS
        and all(u["gap_points"] <= TARGET_POINTS for u in both),
    }


def show(figures: dict[str, Any]) -> None:
    def pct(cell: dict[str, Any]) -> str:
        return "   —  " if cell["kept_pct"] is None else f"{cell['kept_pct']:5.1f}%"

    print(f"{'back-office unit':<24} {'order':<16} {'internal kept':>20} {'customer kept':>20} {'gap':>8}")
    for u in figures["units"]:
        gap = "—" if u["gap_points"] is None else f"{u['gap_points']:.1f} pt"
        print(f"{u['unit']:<24} {u['order']:<16} {pct(u['internal']):>10} of {u['internal']['promises']:>6,}"
              f" {pct(u['external']):>10} of {u['external']['promises']:>6,} {gap:>8}")
    o = figures["overall"]
    gap = "—" if o["gap_points"] is None else f"{o['gap_points']:.1f} pt"
    print(f"{'overall':<24} {'':<16} {pct(o['internal']):>10} of {o['internal']['promises']:>6,}"
          f" {pct(o['external']):>10} of {o['external']['promises']:>6,} {gap:>8}")
    worst = figures["worst_unit_gap_points"]
    print(f"target: within {figures['target_points']:.0f} points (overall and every unit with both channels); "
          f"worst unit {'—' if worst is None else f'{worst:.1f}'} pt: {'MET' if figures['met'] else 'NOT MET'}")


def main() -> None:
    args = parse()
    keep = bool(args.data_dir)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="tandem-parity-"))
    os.environ["TANDEM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from tandem.demo.load import build_demo, database_is_empty

    try:
        call_command("migrate", verbosity=0)
        if database_is_empty():
            end = datetime.now(UTC).replace(microsecond=0)
            build_demo(seed=args.seed, weeks=args.weeks, end=end)
        figures = measure()
        print(json.dumps(figures, indent=2)) if args.json else show(figures)
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
