"""``tandem promise fit|predict|evaluate``: the contract's JSON, and exit code 2 with a clear message on bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tandem.engines.tests.test_promise import synthetic


def run(*args: str, capsys) -> tuple[int, str, str]:
    """The command in-process: (exit code, stdout, stderr)."""
    out = io.StringIO()
    try:
        call_command("promise", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), capsys.readouterr().err


@pytest.fixture(scope="module")
def logfile(tmp_path_factory) -> Path:
    return synthetic(tmp_path_factory.mktemp("cli"), n_cases=120)


def test_it_evaluates_with_the_protocol_as_one_json_object(logfile, capsys) -> None:
    code, out, err = run("evaluate", "--log", str(logfile), "--json", capsys=capsys)
    assert code == 0, err
    f = json.loads(out)
    assert {"mae_days", "hit_rate_p80", "hit_rate_p90", "mean_quote_days_p80", "mean_quote_days_p90", "baselines",
            "fit_seconds", "predictions_per_second", "test_prefixes"} <= f.keys()
    assert {"global_median_mae_days", "median_by_prefix_length_mae_days"} <= f["baselines"].keys()
    assert (f["fit_cases"], f["test_cases"]) == (96, 24)
    origins = f["rolling"]["origins"]
    assert [o["share"] for o in origins] == [0.5, 0.65, 0.8] and f["rolling"]["overall"]["test_cases"] == sum(
        o["test_cases"] for o in origins)
    for o in [*origins, f["rolling"]["overall"]]:
        assert {"mae_days", "mae_p50_k1_days", "hit_rate_p80", "hit_rate_p90"} <= o.keys()
        assert {"mae_days", "mae_p50_k1_days", "hit_rate_p80", "hit_rate_p90"} <= o["queue_blind"].keys()
    assert {"mae_days", "mae_p50_k1_days", "hit_rate_p80", "hit_rate_p90"} <= f["queue_blind"].keys()
    assert f["notes"] == []
    code, out, err = run("evaluate", "--log", str(logfile), capsys=capsys)
    assert code == 0 and "rolling origins" in out and "queue-blind" in out and "overall" in out


def test_it_fits_saves_json_and_predicts_every_prefix(logfile, tmp_path, capsys) -> None:
    model = tmp_path / "model.json"
    code, _, err = run("fit", "--log", str(logfile), "--out", str(model), "--case-attribute", "service", capsys=capsys)
    assert code == 0 and "fitted on 120 cases" in err
    assert json.loads(model.read_text())["format"] == "tandem-promise/2"  # JSON, no pickle
    code, out, err = run("predict", "--model", str(model), "--log", str(logfile), "--json", capsys=capsys)
    records = json.loads(out)
    assert code == 0 and len(records) == 120 * 3
    assert records[0].keys() == {"case_id", "k", "p50_days", "p80_days", "p90_days"}
    assert [(r["case_id"], r["k"]) for r in records[:4]] == [("c0000", 1), ("c0000", 2), ("c0000", 3), ("c0001", 1)]
    code, out, _ = run("predict", "--model", str(model), "--log", str(logfile), capsys=capsys)
    assert code == 0 and out.splitlines()[0].split() == ["case_id", "k", "p50_days", "p80_days", "p90_days"]


def test_it_notes_the_repairs_it_makes_on_stderr(tmp_path, capsys) -> None:
    text = synthetic(tmp_path, n_cases=40).read_text().splitlines()
    text.insert(2, text[1])  # a duplicate event
    text[3], text[4] = text[4], text[3]  # two events of a case out of order
    (tmp_path / "messy.csv").write_text("\n".join(text) + "\n")
    code, out, err = run("evaluate", "--log", str(tmp_path / "messy.csv"), "--json", capsys=capsys)
    assert code == 0 and "note:" in err and "repeat another event" in err and "not in time order" in err
    assert json.loads(out)["events"] == 40 * 4 + 1
    code, out, err = run("evaluate", "--log", str(tmp_path / "messy.csv"), "--json", "--drop-duplicates", capsys=capsys)
    assert code == 0 and "1 exact duplicate events were dropped" in err and json.loads(out)["events"] == 40 * 4


GOOD = "case_id,activity,timestamp\nc1,a,2024-01-01T00:00:00Z\nc1,b,2024-01-02T00:00:00Z\n"
BAD_LOGS = {
    "missing timestamps": ("case_id,activity,timestamp\nc1,a,2024-01-01T00:00:00Z\nc1,b,\nc2,a,2024-01-01T00:00:00Z\n"
                           "c2,b,2024-01-01T05:00:00Z\n", "readable timestamp"),
    "mixed time zones": ("case_id,activity,timestamp\nc1,a,2024-01-01T00:00:00Z\nc1,b,2024-01-01T02:00:00\n"
                         "c2,a,2024-01-01T00:00:00Z\nc2,b,2024-01-01T02:00:00Z\n", "time zones are mixed"),
    "a single case": (GOOD, "1 case(s)"),
    "cases with one event": ("case_id,activity,timestamp\nc1,a,2024-01-01T00:00:00Z\nc2,b,2024-01-02T00:00:00Z\n",
                             "two or more events"),
    "unknown columns": ("ticket,step,when\nc1,a,2024-01-01T00:00:00Z\n", "no 'case_id' column"),
    "all events at one instant": ("case_id,activity,timestamp\n" + "".join(
        f"c{i},{a},2024-01-01T09:00:00Z\n" for i in range(6) for a in "ab"), "same timestamp"),
}


@pytest.mark.parametrize("action", ["fit", "evaluate"])
@pytest.mark.parametrize("what", sorted(BAD_LOGS))
def test_it_refuses_bad_logs_with_exit_code_2(tmp_path, capsys, action, what) -> None:
    text, words = BAD_LOGS[what]
    (tmp_path / "bad.csv").write_text(text)
    args = ["--out", str(tmp_path / "m.json")] if action == "fit" else ["--json"]
    code, out, err = run(action, "--log", str(tmp_path / "bad.csv"), *args, capsys=capsys)
    assert code == 2 and words in err and f"tandem promise {action}:" in err and out == "", err
    assert not (tmp_path / "m.json").exists()


def test_it_refuses_a_file_that_is_not_a_log_and_bad_model_files(tmp_path, logfile, capsys) -> None:
    (tmp_path / "bin.xes").write_bytes(b"\x00\x01garbage")
    (tmp_path / "garbage.json").write_text("this is not json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    (tmp_path / "old.json").write_text('{"format": "tandem-promise/1"}')
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00\x01")
    cases = [
        (["evaluate", "--log", str(tmp_path / "bin.xes")], "XES"),
        (["evaluate", "--log", str(tmp_path / "missing.csv")], "no such file"),
        (["predict", "--model", str(tmp_path / "missing.json"), "--log", str(logfile)], "no such model file"),
        (["predict", "--model", str(tmp_path / "garbage.json"), "--log", str(logfile)], "not a Tandem promise model"),
        (["predict", "--model", str(tmp_path / "other.json"), "--log", str(logfile)], "not a Tandem promise model"),
        (["predict", "--model", str(tmp_path / "binary.json"), "--log", str(logfile)], "not a Tandem promise model"),
        (["predict", "--model", str(tmp_path / "old.json"), "--log", str(logfile)], "fit it again"),
    ]
    for args, words in cases:
        code, out, err = run(*args, "--json", capsys=capsys)
        assert code == 2 and words in err and out == "", (args, err)


def test_the_console_script_prints_pure_json_and_no_traceback(tmp_path, logfile) -> None:
    env = {**os.environ, "TANDEM_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "tandem.cli", "promise"]
    model = tmp_path / "m.json"
    for sub in ("fit", "predict", "evaluate"):
        r = subprocess.run([*cli, sub, "--help"], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0 and f"usage: tandem promise {sub}" in r.stdout
    r = subprocess.run([*cli, "fit", "--log", str(logfile), "--out", str(model)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*cli, "predict", "--model", str(model), "--log", str(logfile), "--json"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0 and len(json.loads(r.stdout)) == 360
    model.write_text(model.read_text()[:5000])
    r = subprocess.run([*cli, "predict", "--model", str(model), "--log", str(logfile), "--json"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "damaged" in r.stderr and r.stdout == ""


def test_it_says_which_fallback_it_took_when_no_activity_ends_the_cases(tmp_path, capsys) -> None:
    lines = ["case_id,activity,timestamp"]
    for c in range(30):  # "a", "b" and "c" each end a third of the cases
        route = "abc"[c % 3:] + "abc"[:c % 3]
        day = f"2024-01-{1 + c % 28:02d}"
        lines += [f"c{c},{act},{day}T1{i}:{c % 60:02d}:00Z" for i, act in enumerate(route)]
    (tmp_path / "noend.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run("fit", "--log", str(tmp_path / "noend.csv"), "--out", str(tmp_path / "m.json"), capsys=capsys)
    assert code == 0 and "note: no activity ends most of the cases" in err and "falls silent" in err
    code, out, err = run("evaluate", "--log", str(tmp_path / "noend.csv"), capsys=capsys)
    assert code == 0 and "fallbacks taken:" in out and "falls silent" in out and "Traceback" not in err
