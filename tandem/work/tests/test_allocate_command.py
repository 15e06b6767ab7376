"""``tandem allocate``: the outside contract (JSON on stdout, exit code 2 and a message on stderr
for bad input, nothing on stdout then)."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

PROBLEM: dict[str, Any] = {
    "now": "2026-03-02T09:00:00Z",
    "people": [
        {"id": "ana", "skills": {"payroll": 3, "invoicing": 1}, "capacity_hours": 6},
        {"id": "ben", "skills": {"payroll": 2}, "capacity_hours": 4},
        {"id": "cy", "skills": {"invoicing": 4}, "capacity_hours": 0},
    ],
    "items": [
        {"id": "R-1", "skill": "payroll", "min_level": 2, "effort_hours": 3, "due": "2026-03-02T12:00:00Z",
         "priority": 1, "current_assignee": "ben"},
        {"id": "R-2", "skill": "payroll", "min_level": 3, "effort_hours": 2, "due": "2026-03-01T17:00:00Z",
         "priority": 3, "current_assignee": None},
        {"id": "R-3", "skill": "legal", "min_level": 1, "effort_hours": 1, "due": "2026-03-04T17:00:00Z",
         "priority": 2, "current_assignee": None},
        {"id": "R-4", "skill": "invoicing", "min_level": 2, "effort_hours": 1, "due": "2026-03-04T17:00:00Z",
         "priority": 2, "current_assignee": "cy"},
    ],
}


def write(tmp_path: Path, content: object) -> str:
    path = tmp_path / "problem.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_it_prints_the_plan_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("allocate", "--input", write(tmp_path, PROBLEM), "--json")
    out = json.loads(capsys.readouterr().out)
    assert sorted((a["item"], a["person"]) for a in out["assignments"]) == [("R-1", "ben"), ("R-2", "ana")]
    reasons = {u["item"]: u["reason"] for u in out["unassigned"]}
    assert reasons["R-3"] == "no person has skill 'legal'"
    assert "skill 'invoicing' at level 2" in reasons["R-4"]
    assert out["objective"] <= out["bound"]
    assert 0 <= out["gap"] <= 0.01
    assert out["solve_seconds"] >= 0


def test_it_returns_integer_ids_as_integers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = {**PROBLEM, "people": [{"id": 7, "skills": {"payroll": 3}, "capacity_hours": 8}],
               "items": [{**PROBLEM["items"][0], "id": 42, "current_assignee": 7}]}
    call_command("allocate", "--input", write(tmp_path, problem), "--json")
    assert json.loads(capsys.readouterr().out)["assignments"] == [{"item": 42, "person": 7}]


def test_it_prints_a_readable_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("allocate", "--input", write(tmp_path, PROBLEM))
    out = capsys.readouterr().out
    assert "R-1 → ben" in out and "R-3: no person has skill 'legal'" in out and "gap" in out


@pytest.mark.parametrize(("content", "message"), [
    ("{\"now\": ", "is not valid JSON"),
    ({**PROBLEM, "items": [{**PROBLEM["items"][0], "effort_hours": -2}]},
     "items[0] (id 'R-1'): 'effort_hours' must be more than 0"),
    ({**PROBLEM, "items": [{**PROBLEM["items"][0], "effort_hours": 0}]},
     "items[0] (id 'R-1'): 'effort_hours' must be more than 0"),
    ({**PROBLEM, "items": [PROBLEM["items"][0], {"id": "R-9", "skill": "payroll"}]},
     "items[1] (id 'R-9'): missing field 'min_level'"),
    ({**PROBLEM, "people": [{**PROBLEM["people"][0], "capacity_hours": "six"}]},
     "people[0] (id 'ana'): 'capacity_hours' must be a number"),
    ({**PROBLEM, "items": [PROBLEM["items"][0], PROBLEM["items"][0]]}, "duplicate item id 'R-1'"),
    ([1, 2], "must be a JSON object"),
])
def test_it_refuses_bad_input_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: object,
                                                message: str) -> None:
    with pytest.raises(SystemExit) as caught:
        call_command("allocate", "--input", write(tmp_path, content), "--json")
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("tandem allocate: ") and message in captured.err


def test_it_runs_from_the_console_script_without_a_traceback(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tandem.cli", "allocate", *args], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "TANDEM_DATA_DIR": str(tmp_path)})

    good = run("--input", write(tmp_path, PROBLEM), "--json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["assignments"]
    missing = run("--input", str(tmp_path / "nowhere.json"), "--json")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_it_keeps_solver_chatter_off_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tandem.engines import allocation
    from tandem.work.management.commands import allocate as command

    def chatty(problem: allocation.Problem, **kwargs: object) -> allocation.Plan:
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
        ctypes.CDLL(None).printf(b"buffered by the C library\n")  # flushed only later, unless we flush
        return allocation.allocate(problem)

    monkeypatch.setattr(command, "allocate", chatty)
    call_command("allocate", "--input", write(tmp_path, PROBLEM), "--json")
    captured = capfd.readouterr()
    assert json.loads(captured.out)["assignments"]
    assert "tmpSolver" in captured.err and "buffered by the C library" in captured.err
