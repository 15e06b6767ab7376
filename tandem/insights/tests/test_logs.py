"""`tandem export-log` and `tandem import-log`: Tandem's history out as XES/CSV, another system's in."""

from __future__ import annotations

import gzip
import io
import itertools
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from tandem.engines.agreements.workdays import add_working_days
from tandem.engines.eventlog import read_log
from tandem.engines.eventlog.model import drop_duplicates
from tandem.insights.models import WeeklyFlow
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest
from tests.cast import TIMESHEET_OK

pytestmark = pytest.mark.django_db(transaction=True)

HELPDESK = Path("/work/shared/data/Helpdesk.xes.gz")
XES = "{http://www.xes-standard.org/}"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def run(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a tandem command."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as stop:
        code = int(stop.code or 0)
    return code, out.getvalue(), err.getvalue()


def make_history(cast) -> list[ServiceRequest]:
    """Two requests through the real actions: one resolved, one still new."""
    first = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=T0).request
    actions.assign_request(cast.payroll_lead, first.pk, cast.payroll_agent.pk, now=T0 + timedelta(hours=1))
    actions.start_request(cast.payroll_agent, first.pk, now=T0 + timedelta(hours=2))
    actions.resolve_request(cast.payroll_agent, first.pk, "Hours corrected.", now=T0 + timedelta(hours=3,
                                                                                                  microseconds=250))
    second = actions.submit_request(cast.other_consultant, cast.timesheet, TIMESHEET_OK,
                                    now=T0 + timedelta(days=3)).request
    return [first, second]


# --- export -----------------------------------------------------------------------------------


def test_it_exports_xes_with_the_structure_the_standard_describes(cast, tmp_path) -> None:
    first, second = make_history(cast)
    target = tmp_path / "tandem.xes"
    code, out, err = run("export-log", str(target))
    assert code == 0, err
    assert "5 events of 2 requests" in out

    root = ET.parse(target).getroot()
    assert root.tag == f"{XES}log"
    assert root.get("xes.version") == "1849-2016"
    children = [c.tag.removeprefix(XES) for c in root]
    # IEEE 1849: extensions, then globals, then classifiers, then the traces.
    order = {"extension": 0, "global": 1, "classifier": 2, "trace": 4}
    assert [order[c] for c in children] == sorted(order[c] for c in children)
    extensions = {e.get("prefix"): e for e in root.findall(f"{XES}extension")}
    assert set(extensions) >= {"concept", "time", "org", "lifecycle"}
    for ext in extensions.values():
        assert ext.get("name") and ext.get("uri", "").startswith("http://www.xes-standard.org/")
    scopes = {g.get("scope"): {a.get("key"): a.tag.removeprefix(XES) for a in g} for g in root.findall(f"{XES}global")}
    assert scopes["trace"] == {"concept:name": "string"}
    assert scopes["event"] == {"concept:name": "string", "time:timestamp": "date"}

    keys_seen: set[str] = set()
    traces = root.findall(f"{XES}trace")
    assert [t.find(f"{XES}string[@key='concept:name']").get("value") for t in traces] == [  # type: ignore[union-attr]
        first.reference, second.reference]
    db_events = list(Event.objects.order_by("request_id", "seq").values_list("request_id", "kind", "at", "actor__user__username",
                                                                         "actor__unit__slug"))
    written = []
    for trace in traces:
        attrs = {}
        for child in trace:
            tag = child.tag.removeprefix(XES)
            assert tag in ("string", "date", "event"), tag
            if tag != "event":
                attrs[child.get("key")] = child.get("value")
                keys_seen.add(child.get("key", ""))
        for key, typ in scopes["trace"].items():
            assert trace.find(f"{XES}{typ}[@key='{key}']") is not None  # every trace has the globals
        for event in trace.findall(f"{XES}event"):
            values = {}
            for attr in event:
                tag = attr.tag.removeprefix(XES)
                assert tag in ("string", "date") and attr.get("key") and attr.get("value") is not None
                values[attr.get("key")] = (tag, attr.get("value"))
                keys_seen.add(attr.get("key", ""))
            for key, typ in scopes["event"].items():
                assert values[key][0] == typ
            written.append((attrs["concept:name"], values["concept:name"][1],
                            datetime.fromisoformat(str(values["time:timestamp"][1])), values["org:resource"][1],
                            values.get("org:group", ("", None))[1], values["lifecycle:transition"][1]))
        assert attrs["service"] == "timesheet-correction" and attrs["unit"] == "payroll"
        assert attrs["channel"] == "internal"
    assert {a for a in keys_seen if ":" in a}.issubset(
        {k for k in keys_seen if k.split(":")[0] in extensions})  # every prefixed key has its extension
    classifiers = root.findall(f"{XES}classifier")
    assert classifiers and all(set(c.get("keys", "").split()) <= keys_seen for c in classifiers)

    labels = dict(Event.Kind.choices)
    ref = dict(ServiceRequest.objects.values_list("pk", "reference"))
    expected = [(ref[rid], labels[kind], at, user or "system", unit, "complete")
                for rid, kind, at, user, unit in db_events]
    assert written == expected
    status = {t.find(f"{XES}string[@key='concept:name']").get("value"):  # type: ignore[union-attr]
              t.find(f"{XES}string[@key='status']").get("value") for t in traces}  # type: ignore[union-attr]
    assert status == {first.reference: "resolved", second.reference: "new"}
    requesting = traces[1].find(f"{XES}string[@key='requesting_unit']")
    assert requesting is not None and requesting.get("value") == "york"


def test_it_round_trips_an_export_through_the_reader(cast, tmp_path) -> None:
    make_history(cast)
    for name in ("tandem.csv", "tandem.xes.gz", "tandem.csv.gz"):
        assert run("export-log", str(tmp_path / name))[0] == 0
        log = read_log(tmp_path / name)
        assert log.problems == []
        events = list(Event.objects.order_by("request_id", "seq").values_list("request_id", "at"))
        ref = dict(ServiceRequest.objects.values_list("pk", "reference"))
        assert log.case.values() == [ref[r] for r, _ in events]
        micros = [(at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) for _, at in events]
        assert log.time.tolist() == micros  # to the microsecond
        assert log.activity.values()[:4] == ["Submitted", "Assigned", "Started", "Resolved"]
        assert log.attribute("resource").values()[:4] == ["consultant", "payroll_lead", "payroll_agent",
                                                          "payroll_agent"]
        assert log.case_attributes["status"].values() == ["resolved", "new"]


def test_it_filters_the_export_by_period_and_service(cast, tmp_path) -> None:
    make_history(cast)
    target = tmp_path / "part.csv"
    assert run("export-log", str(target), "--since", "2026-11-04")[0] == 0
    assert read_log(target).case.names == [ServiceRequest.objects.order_by("pk").last().reference]  # type: ignore[union-attr]
    assert run("export-log", str(target), "--until", "2026-11-02", "--service", "timesheet-correction")[0] == 0
    assert read_log(target).n_cases == 1
    assert run("export-log", str(target), "--service", "grievance")[0] == 0
    assert len(read_log(target)) == 0


@pytest.mark.parametrize(("args", "message"), [
    (["out.txt"], "the name must end in"),
    (["nowhere/out.xes"], "no such folder"),
    (["out.xes", "--service", "nope"], "no service with the slug 'nope'"),
    (["out.xes", "--since", "2026-12-01", "--until", "2026-11-01"], "is before --since"),
])
def test_it_refuses_a_bad_export_with_exit_code_2(cast, tmp_path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, err = run("export-log", *args)
    assert code == 2 and message in err and "Traceback" not in err


# --- import -----------------------------------------------------------------------------------

SMALL = """case_id,activity,timestamp,resource
A,Register,2026-10-05T10:00:00+00:00,ann
A,Check,2026-10-06 11:00:00Z,bob
A,Register,2026-10-05T10:00:00+00:00,ann
A,Pay,2026-10-08T12:00:00.123456+00:00,
A,Archive,2026-10-07T09:00:00+02:00,cat
B,Register,2026-10-12T10:00:00+00:00,ann
B,Pay,2026-10-13T10:00:00+00:00,bob
C,Register,2026-10-14T15:30:00+00:00,
"""


def write_small(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.csv"
    path.write_text(SMALL)
    return path


def test_it_imports_each_case_as_a_closed_request_with_a_valid_hash_chain(cast, tmp_path) -> None:
    code, out, err = run("import-log", str(write_small(tmp_path)), "--service", "timesheet-correction")
    assert code == 0, err
    assert "Imported 3 of 3 cases" in out and "skipped 0" in out
    assert "1 exact duplicate events were dropped" in err
    assert "were not in time order and were sorted" in err

    requests = {sr.idempotency_key: sr for sr in ServiceRequest.objects.all()}
    assert set(requests) == {"import:legacy:A", "import:legacy:B", "import:legacy:C"}
    a = requests["import:legacy:A"]
    assert (a.status, a.is_open, a.requester, a.requesting_unit, a.unit, a.intake) == (
        "closed", False, cast.payroll_lead, cast.payroll, cast.payroll, {})  # default: the service's owner
    assert a.title == "Timesheet correction · imported A"
    assert a.submitted_at == datetime(2026, 10, 5, 10, tzinfo=UTC)
    last = datetime(2026, 10, 8, 12, 0, 0, 123456, tzinfo=UTC)
    assert a.resolved_at == a.closed_at == a.status_changed_at == last
    assert a.due_at == add_working_days(a.submitted_at, 2, tz="Europe/London")
    rows = list(a.events.values_list("seq", "kind", "actor_id", "at", "from_status", "to_status", "data"))
    assert [r[:2] for r in rows] == [(1, "submitted"), (2, "imported"), (3, "imported"), (4, "resolved"),
                                     (5, "closed")]
    assert [(r[4], r[5]) for r in rows] == [("", "new"), ("new", "in_progress"), ("", ""),
                                            ("in_progress", "resolved"), ("resolved", "closed")]
    assert rows[0][2] == cast.payroll_lead.pk and {r[2] for r in rows[1:]} == {None}
    # Sorted by time: the Archive at 09:00+02:00 (07:00 UTC) on the 7th comes before Pay on the 8th.
    assert [r[6].get("activity") for r in rows] == ["Register", "Check", "Archive", "Pay", None]
    assert [r[6].get("resource") for r in rows[:4]] == ["ann", "bob", "cat", None]
    assert rows[3][3] == rows[4][3] == last
    assert a.last_event_seq == 5

    b_kinds = list(requests["import:legacy:B"].events.values_list("kind", "from_status", "to_status"))
    assert b_kinds == [("submitted", "", "new"), ("resolved", "new", "resolved"), ("closed", "resolved", "closed")]
    c = requests["import:legacy:C"]  # one event: submitted, resolved and closed at that instant
    assert list(c.events.values_list("kind", flat=True)) == ["submitted", "resolved", "closed"]
    assert set(c.events.values_list("at", flat=True)) == {c.submitted_at} == {c.closed_at}

    code, out, _ = run("verify-audit")
    assert code == 0 and "OK: 11 events in 3 requests verified" in out


def test_it_shows_the_imported_activities_on_the_request_page(cast, tmp_path, client) -> None:
    assert run("import-log", str(write_small(tmp_path)), "--service", "timesheet-correction")[0] == 0
    sr = ServiceRequest.objects.get(idempotency_key="import:legacy:A")
    client.force_login(cast.payroll_agent.user)
    page = client.get(f"/requests/{sr.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Imported activity" in text and "Archive" in text and "Timesheet correction · imported A" in text


def test_it_skips_cases_imported_before_and_takes_the_options(cast, tmp_path) -> None:
    path = write_small(tmp_path)
    args = ["import-log", str(path), "--service", "timesheet-correction", "--requester", "consultant",
            "--requesting-unit", "york", "--channel", "external"]
    assert run(*args)[0] == 0
    sr = ServiceRequest.objects.get(idempotency_key="import:legacy:B")
    assert (sr.requester, sr.requesting_unit, sr.channel) == (cast.consultant, cast.york, "external")
    before = Event.objects.count()
    code, out, _ = run(*args)
    assert code == 0 and "Imported 0 of 3 cases" in out and "skipped 3 imported before" in out
    # Another requester importing the same file does not duplicate it either.
    code, out, _ = run("import-log", str(path), "--service", "timesheet-correction", "--json")
    assert code == 0 and '"skipped": 3' in out
    assert (ServiceRequest.objects.count(), Event.objects.count()) == (3, before)


def test_it_writes_nothing_on_a_dry_run(cast, tmp_path) -> None:
    code, out, _ = run("import-log", str(write_small(tmp_path)), "--service", "timesheet-correction", "--dry-run")
    assert code == 0 and "Would import 3 of 3 cases" in out and "11 Tandem events" in out
    assert not ServiceRequest.objects.exists() and not Event.objects.exists()


def test_it_leaves_nothing_half_written_when_the_import_fails(cast, tmp_path, monkeypatch) -> None:
    from tandem.insights import logs

    calls = {"n": 0}
    real = logs.add_working_days

    def failing(*args, **kwargs):  # the third case fails, after the first batch was written
        calls["n"] += 1
        if calls["n"] == 3:
            raise logs.ImportRefused("simulated failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(logs, "add_working_days", failing)
    monkeypatch.setattr(logs, "BATCH", 2)
    code, _out, err = run("import-log", str(write_small(tmp_path)), "--service", "timesheet-correction")
    assert code == 2 and "simulated failure" in err
    assert not ServiceRequest.objects.exists() and not Event.objects.exists()


@pytest.mark.parametrize(("content", "args", "message"), [
    (SMALL, ["--service", "nope"], "no service with the slug 'nope'"),
    (SMALL, ["--service", "timesheet-correction", "--requester", "ghost"], "no person with the username 'ghost'"),
    (SMALL, ["--service", "timesheet-correction", "--requesting-unit", "mars"], "no unit with the slug 'mars'"),
    (SMALL, ["--service", "grievance", "--channel", "external"], "takes internal requests only"),
    ("just some words\nand more\n", ["--service", "timesheet-correction"], "no 'case_id' column"),
    ("case_id,activity\nA,Register\n", ["--service", "timesheet-correction"], "no 'timestamp' column"),
    ("case_id,activity,timestamp\nA,Register,yesterday\n", ["--service", "timesheet-correction"],
     "no usable events"),
    (None, ["--service", "timesheet-correction"], "no such file"),
])
def test_it_refuses_bad_input_with_exit_code_2(cast, tmp_path, content, args, message) -> None:
    path = tmp_path / "legacy.csv"
    if content is not None:
        path.write_text(content)
    code, _out, err = run("import-log", str(path), *args)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not ServiceRequest.objects.exists()


def test_it_refuses_a_file_that_is_not_a_log(cast, tmp_path) -> None:
    path = tmp_path / "picture.xes.gz"
    path.write_bytes(gzip.compress(b"\x89PNG\x00\x00 not xml at all"))
    code, _out, err = run("import-log", str(path), "--service", "timesheet-correction")
    assert code == 2 and "is not an XES file" in err


def test_it_keys_imported_cases_by_file_stem_and_case_id() -> None:
    from tandem.insights.logs import import_key, source_stem

    assert source_stem("/data/BPI_Challenge_2012_W.xes.gz") == "BPI_Challenge_2012_W"
    assert source_stem("legacy.CSV") == "legacy"
    assert import_key("Helpdesk", "Case 12") == "import:Helpdesk:Case 12"
    long = import_key("Helpdesk", "x" * 100)  # too long for the column: a digest, still one per case
    assert len(long) <= 80 and long.startswith("import:") and long != import_key("Helpdesk", "x" * 101)


@pytest.mark.skipif(not HELPDESK.exists(), reason="the shared Helpdesk log is not on this machine")
def test_it_imports_helpdesk_and_exports_the_same_history(cast, tmp_path) -> None:
    began = time.perf_counter()
    code, out, err = run("import-log", str(HELPDESK), "--service", "timesheet-correction",
                         "--requester", "consultant")
    assert code == 0, err
    original = drop_duplicates(read_log(HELPDESK))
    assert (original.n_cases, len(original)) == (4_580, 21_348 - 127)
    assert "Imported 4,580 of 4,580 cases" in out and "127 exact duplicate events were dropped" in err
    assert ServiceRequest.objects.filter(status="closed").count() == 4_580
    one_event_cases = int((np.diff(original.case_bounds()) == 1).sum())
    assert Event.objects.count() == len(original) + 4_580 + one_event_cases
    assert Event.objects.filter(kind="imported").count() == len(original) - 2 * 4_580 + one_event_cases
    code, verified, _ = run("verify-audit")
    assert code == 0 and "OK:" in verified
    assert WeeklyFlow.objects.exists()  # the evidence tables were rebuilt with the imported history

    target = tmp_path / "helpdesk-again.xes.gz"
    assert run("export-log", str(target))[0] == 0
    again = read_log(target)
    assert (again.n_cases, len(again)) == (4_580, Event.objects.count())
    # Without the closing event the import added at the end of each case, every case is the original.
    case_of = {reference: str(key).split(":", 2)[2]
               for reference, key in ServiceRequest.objects.values_list("reference", "idempotency_key")}

    def cases(log, drop_last: bool) -> dict[str, list[tuple]]:
        names, bounds = log.case.names, log.case_bounds().tolist()
        activity, resource = log.activity.values(), log.attribute("resource").values()
        out: dict[str, list[tuple]] = {}
        for start, end in itertools.pairwise(bounds):
            name = names[log.case.codes[start]]
            stop = end - 1 if drop_last else end
            out[case_of.get(name, name)] = [(activity[i], int(log.time[i]), resource[i]) for i in range(start, stop)]
        return out

    assert cases(again, drop_last=True) == cases(original, drop_last=False)
    assert time.perf_counter() - began < 60
