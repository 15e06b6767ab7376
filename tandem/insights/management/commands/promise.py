"""``tandem promise fit|predict|evaluate``: the remaining-time model on CSV/XES event logs (docs/promises.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.eventlog import EventLog, EventLogError, read_log
from tandem.engines.promise import PromiseError, PromiseModel, check_input, evaluate, fit


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # works on files only: no database, no URL configuration
    help = ("Remaining-time promises (P50/P80/P90) from an event log: fit a model, predict every prefix, "
            "or evaluate with the published 80/20 protocol.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{fit,predict,evaluate}")
        f = sub.add_parser("fit", help="fit a model on a log of complete cases and save it as JSON")
        f.add_argument("--log", required=True, metavar="TRAIN_FILE", help="a .csv or .xes file, optionally .gz")
        f.add_argument("--out", required=True, metavar="MODEL_FILE", help="where to write the model (JSON)")
        f.add_argument("--case-attribute", action="append", default=[], metavar="NAME",
                       help="a categorical case attribute to use as a feature, and to count the work in progress "
                       "among cases sharing its value, e.g. service (repeatable)")
        p = sub.add_parser("predict", help="quote every case after each of its events but the last")
        p.add_argument("--model", required=True, metavar="MODEL_FILE", help="a model written by `tandem promise fit`")
        p.add_argument("--log", required=True, metavar="FILE", help="a .csv or .xes file, optionally .gz")
        p.add_argument("--json", action="store_true", help="print one JSON array of records on stdout")
        e = sub.add_parser("evaluate", help="first 80 %% of cases (by first event) to fit, last 20 %% to score; "
                           "and three rolling origins, beside the queue-blind model")
        e.add_argument("--log", required=True, metavar="FILE", help="a .csv or .xes file, optionally .gz")
        e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        e.add_argument("--case-attribute", action="append", default=[], metavar="NAME",
                       help="a categorical case attribute to use as a feature, and to count the work in progress "
                       "among cases sharing its value, e.g. unit (repeatable)")
        for command in (f, p, e):
            command.add_argument(
                "--drop-duplicates", action="store_true",
                help="leave out events that repeat another event of their case exactly (kept by default)",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, options["action"])(options)
        except (EventLogError, PromiseError, KeyError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            sys.stderr.write(f"tandem promise {options['action']}: {message}\n")
            sys.exit(2)

    def _read(self, path: str, action: str, drop_duplicates: bool) -> EventLog:
        log = read_log(path, drop_duplicates=drop_duplicates)
        for note in check_input(log):
            sys.stderr.write(f"tandem promise {action}: note: {note}\n")
        return log

    def fit(self, o: dict[str, Any]) -> None:
        log = self._read(o["log"], "fit", o["drop_duplicates"])
        model = fit(log, case_attributes=o["case_attribute"])
        try:
            Path(o["out"]).write_text(model.to_json(), encoding="utf-8")
        except OSError as exc:
            raise PromiseError(f"cannot write {o['out']}: {exc.strerror or exc}") from exc
        info = model.info
        for note in info.get("notes", []):
            sys.stderr.write(f"tandem promise fit: note: {note}\n")
        sys.stderr.write(f"fitted on {info['fit_cases']:,} cases ({info['fit_prefixes']:,} prefixes) "
                         f"in {info['fit_seconds']:.1f} s; saved {o['out']}\n")

    def predict(self, o: dict[str, Any]) -> None:
        path = Path(o["model"])
        if not path.is_file():
            raise PromiseError(f"no such model file: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PromiseError(f"cannot read the model file {path}: it is not a Tandem promise model") from exc
        model = PromiseModel.from_json(text)
        quotes = model.predict_prefixes(self._read(o["log"], "predict", o["drop_duplicates"]))
        if o["json"]:
            self.stdout.write(json.dumps(quotes.records(), ensure_ascii=False))
            return
        lines = [f"{'case_id':<20} {'k':>4} {'p50_days':>10} {'p80_days':>10} {'p90_days':>10}"]
        lines += [f"{r['case_id']:<20} {r['k']:>4} {r['p50_days']:>10.3f} {r['p80_days']:>10.3f} {r['p90_days']:>10.3f}"
                  for r in quotes.records()]
        self.stdout.write("\n".join(lines))

    def evaluate(self, o: dict[str, Any]) -> None:
        figures = evaluate(self._read(o["log"], "evaluate", o["drop_duplicates"]),
                           case_attributes=tuple(o["case_attribute"]))
        if o["json"]:
            self.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False))
            return
        b = figures["baselines"]
        lines = [
            f"cases {figures['cases']:,} ({figures['fit_cases']:,} to fit, {figures['test_cases']:,} to test), "
            f"events {figures['events']:,}",
            f"test prefixes (k >= 2): {figures['test_prefixes']:,}",
            "",
            f"{'MAE of P50, days':<40} {figures['mae_days']:>8.3f}",
            f"{'MAE of P50 at k = 1 (submission), days':<40} {figures['mae_p50_k1_days']:>8.3f}",
            f"{'  baseline: global median':<40} {b['global_median_mae_days']:>8.3f}",
            f"{'  baseline: median by prefix length':<40} {b['median_by_prefix_length_mae_days']:>8.3f}",
            "",
            f"quotes at k = 1 for {figures['test_cases_quoted']:,} test cases:",
            f"{'  P80 hit rate, mean length (days)':<40} {figures['hit_rate_p80']:>8.1%} "
            f"{figures['mean_quote_days_p80']:>8.2f}",
            f"{'  P90 hit rate, mean length (days)':<40} {figures['hit_rate_p90']:>8.1%} "
            f"{figures['mean_quote_days_p90']:>8.2f}",
            f"{'  baseline: one quote for all, P80':<40} {b['trivial_quote_hit_rate_p80']:>8.1%} "
            f"{b['trivial_quote_days_p80']:>8.2f}",
            f"{'  baseline: one quote for all, P90':<40} {b['trivial_quote_hit_rate_p90']:>8.1%} "
            f"{b['trivial_quote_days_p90']:>8.2f}",
            "",
            f"{'fit time (s)':<40} {figures['fit_seconds']:>8.1f}",
            f"{'predictions per second':<40} {figures['predictions_per_second']:>8,.0f}",
        ]
        lines += self._rolling_lines(figures)
        if figures["notes"]:
            lines += ["", "fallbacks taken:", *(f"  - {n}" for n in figures["notes"])]
        if figures["problems"]:
            lines += ["", "problems in the log:", *(f"  - {p}" for p in figures["problems"])]
        self.stdout.write("\n".join(lines))

    @staticmethod
    def _rolling_lines(figures: dict[str, Any]) -> list[str]:
        blind = figures["queue_blind"]
        lines = ["", f"{'queue-blind model: MAE, MAE at k = 1':<40} {blind['mae_days']:>8.3f} "
                 f"{blind['mae_p50_k1_days']:>8.3f}",
                 f"{'queue-blind model: P80, P90 hit rates':<40} {blind['hit_rate_p80']:>8.1%} "
                 f"{blind['hit_rate_p90']:>8.1%}"]
        rolling = figures.get("rolling")
        if not rolling or not rolling["origins"]:
            return [*lines, "", "rolling origins: too few cases to score a block"]

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.1%}"

        def num(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        head = ["origin", "cases", "MAE", "MAE k=1", "P80", "P90", "blind MAE", "blind k=1", "blind P80",
                "blind P90", "fit s"]
        rows = []
        for o in [*rolling["origins"], {**rolling["overall"], "origin": "overall"}]:
            b = o["queue_blind"]
            rows.append([o["origin"], f"{o['test_cases']:,}", num(o["mae_days"]), num(o["mae_p50_k1_days"]),
                         pct(o["hit_rate_p80"]), pct(o["hit_rate_p90"]), num(b["mae_days"]), num(b["mae_p50_k1_days"]),
                         pct(b["hit_rate_p80"]), pct(b["hit_rate_p90"]),
                         f"{o['fit_seconds']:.1f}" if "fit_seconds" in o else ""])
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        lines += ["", "rolling origins (fit on the cases started before, score the block after; "
                  "cases whose P90 reaches past the log's end left out):"]
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
        return lines
