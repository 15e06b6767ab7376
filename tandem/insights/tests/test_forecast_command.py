"""``tandem forecast`` on event-log files: the JSON contract, the cut at --until, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

START = date(2025, 1, 6)  # a Monday
RATES = [8, 6, 6, 5, 4, 0, 0]


def write_log(path: Path, weeks: int, *, extra_after: date | None = None) -> None:
    """Cases arriving at RATES per weekday, each with a first and a second event a day later."""
    rng = np.random.default_rng(11)
    rows = []
    n = 0
    for i in range(7 * weeks):
        day = START + timedelta(days=i)
        for _ in range(rng.poisson(RATES[day.weekday()])):
            n += 1
            at = datetime(day.year, day.month, day.day, 9) + timedelta(minutes=int(rng.integers(0, 480)))
            rows.append((f"c{n}", "Open", f"{at.isoformat()}+00:00"))
            rows.append((f"c{n}", "Close", f"{(at + timedelta(days=1)).isoformat()}+00:00"))
    if extra_after is not None:  # a flood after the cut, which the forecast must not see
        for k in range(500):
            rows.append((f"late{k}", "Open", f"{extra_after.isoformat()}T10:00:00+00:00"))
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "activity", "timestamp"])
        w.writerows(rows)


def tandem(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tandem.cli", "forecast", *args], capture_output=True, text=True,
                          check=False)


def test_it_prints_one_json_row_per_day_from_until(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    write_log(log, 20)
    until = START + timedelta(days=7 * 16)  # a Monday
    done = tandem("--log", str(log), "--until", until.isoformat(), "--days", "28", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["date"] for r in rows] == [(until + timedelta(days=i)).isoformat() for i in range(28)]
    assert all(set(r) == {"date", "p10", "p50", "p90"} and r["p10"] <= r["p50"] <= r["p90"] for r in rows)
    for r in rows:
        rate = RATES[date.fromisoformat(r["date"]).weekday()]
        if rate == 0:
            assert r["p90"] == 0
        else:
            assert r["p10"] <= rate <= r["p90"]
            assert abs(r["p50"] - rate) <= 2


def test_only_cases_begun_before_until_are_read(tmp_path: Path) -> None:
    plain, flooded = tmp_path / "plain.csv", tmp_path / "flooded.csv"
    until = START + timedelta(days=7 * 12)
    write_log(plain, 12)
    write_log(flooded, 12, extra_after=until)
    a = tandem("--log", str(plain), "--until", until.isoformat(), "--json")
    b = tandem("--log", str(flooded), "--until", until.isoformat(), "--json")
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout
    assert len(json.loads(a.stdout)) == 28  # the default


def test_the_management_command_says_the_same(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    write_log(log, 10)
    until = (START + timedelta(days=70)).isoformat()
    out = StringIO()
    call_command("forecast", "--log", str(log), "--until", until, "--days", "7", "--json", stdout=out)
    assert json.loads(out.getvalue()) == json.loads(tandem("--log", str(log), "--until", until, "--days", "7",
                                                           "--json").stdout)
    table = StringIO()
    call_command("forecast", "--log", str(log), "--until", until, "--days", "7", stdout=table)
    assert "weekday means (Mon-Sun)" in table.getvalue() and table.getvalue().count("\n") == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "2025-02-01"], "needs at least 8 weeks"),
        (["--until", "2024-01-01"], "no case of"),
        (["--until", "2025-13-01"], "is not a date"),
        (["--until", "2025-06-01", "--days", "0"], "--days: 1 to 366"),
        (["--until", "2025-06-01", "--country", "XX"], "no public holidays known for country 'XX'"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    log = tmp_path / "log.csv"
    write_log(log, 20)
    done = tandem("--log", str(log), *args)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_a_file_that_is_not_a_log_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n1,2\n")
    done = tandem("--log", str(bad), "--until", "2025-06-01")
    assert done.returncode == 2 and done.stderr.startswith("tandem forecast:")
