"""``tandem analyse`` and ``tandem convert-log`` through the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run(*args: str, tmp_path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TANDEM_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "tandem.cli", *args], capture_output=True, text=True, env=env, timeout=120)


LOG = "case_id,activity,timestamp,group\nc1,a,2024-01-01T00:00:00Z,X\nc1,b,2024-01-02T00:00:00Z,Y\nc1,c,2024-01-03T00:00:00Z,X\n"


def test_it_prints_the_contract_keys_as_json(tmp_path) -> None:
    (tmp_path / "l.csv").write_text(LOG)
    r = run("analyse", "--log", str(tmp_path / "l.csv"), "--group-attribute", "group", "--json", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert {"cases", "events", "activities", "variants", "case_duration_days", "directly_follows", "problems",
            "handovers_per_case", "ping_pong_rate"} <= f.keys()
    assert f["case_duration_days"] == {"mean": 2.0, "median": 2.0, "p90": 2.0}
    assert f["directly_follows"][0].keys() >= {"from", "to", "count", "mean_days"}
    assert (f["handovers_per_case"], f["ping_pong_rate"]) == (2.0, 1.0)


def test_it_prints_a_table_without_json(tmp_path) -> None:
    (tmp_path / "l.csv").write_text(LOG)
    r = run("analyse", "--log", str(tmp_path / "l.csv"), tmp_path=tmp_path)
    assert r.returncode == 0 and "cases" in r.stdout and "a → b" in r.stdout


def test_it_fails_clearly_with_exit_code_2(tmp_path) -> None:
    (tmp_path / "l.csv").write_text(LOG)
    (tmp_path / "bin.xes").write_bytes(b"\x00\x01garbage")
    for args, words in [
        (["--log", str(tmp_path / "missing.csv")], "no such file"),
        (["--log", str(tmp_path / "bin.xes")], "XES"),
        (["--log", str(tmp_path / "l.csv"), "--group-attribute", "org:nope"], "no event attribute"),
    ]:
        r = run("analyse", *args, "--json", tmp_path=tmp_path)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert r.stdout == ""


def test_convert_log_turns_csv_into_xes_and_back(tmp_path) -> None:
    (tmp_path / "l.csv").write_text(LOG)
    assert run("convert-log", str(tmp_path / "l.csv"), str(tmp_path / "l.xes.gz"), tmp_path=tmp_path).returncode == 0
    assert run("convert-log", str(tmp_path / "l.xes.gz"), str(tmp_path / "m.csv"), tmp_path=tmp_path).returncode == 0
    assert (tmp_path / "m.csv").read_text().splitlines()[1].startswith("c1,a,2024-01-01T00:00:00.000+00:00,X")
