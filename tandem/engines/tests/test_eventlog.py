"""Event logs in and out: messy CSVs, round trips, the XES we write checked with xml.etree."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tandem.engines.eventlog import EventLogError, analyse, read_log, write_log
from tandem.engines.eventlog.timestamps import parse_timestamps

XES = "{http://www.xes-standard.org/}"


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


def test_it_reads_odd_timestamp_formats_to_utc_microseconds() -> None:
    got = parse_timestamps([
        "2012-10-09T14:50:17.000+03:00", "2012-10-09 11:50:17", "2012/10/09 11:50:17Z",
        "2012-10-09T11:50:17.25Z", "1349783417", "2012-10-09T12:50:17+0100", "nonsense", "",
    ])
    base = 1349783417 * 1_000_000
    assert got.micros[:6].tolist() == [base, base, base, base + 250_000, base, base]
    assert got.unparseable == 1 and got.naive == 1 and got.offsets == 3


def test_it_reports_messy_csv_problems_instead_of_failing(tmp_path) -> None:
    p = write(tmp_path, "messy.csv",
              "case_id;activity;timestamp;resource\n"
              "c1;B;2024-01-01 10:00:00+01:00;ann\n"
              "c1;A;2024-01-01T08:00:00Z;bob\n"
              "c1;A;2024-01-01T08:00:00Z;bob\n"
              "c2;A;;ann\n"
              "c2;;2024-01-02T08:00:00Z;ann\n"
              "c2;A;2024/01/02 09:00:00;ann\n"
              "c3;A;1704186000;ann\n", encoding="utf-8-sig")
    log = read_log(p)
    text = " | ".join(log.problems)
    for expected in ("1 events repeat another event", "1 events without a readable timestamp", "1 events without an activity",
                     "not in time order", "no UTC offset", "different UTC offsets"):
        assert expected in text
    assert len(log) == 5 and log.n_cases == 3
    assert len(read_log(p, drop_duplicates=True)) == 4
    assert log.activity.values()[:3] == ["A", "A", "B"]  # sorted by time within the case
    assert log.attributes["org:resource"].values()[0] == "bob"


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_it_sniffs_delimiters_and_accepts_pm4py_column_names(tmp_path, sep) -> None:
    header = sep.join(["case:concept:name", "concept:name", "time:timestamp", "org:group", "case:channel"])
    rows = [sep.join(["x", "A", "2024-01-01T00:00:00", "g1", "web"]), sep.join(["x", "B", "2024-01-01T00:00:01", "g2", ""])]
    log = read_log(write(tmp_path, "pm4py.csv", "\n".join([header, *rows]) + "\n"))
    assert len(log) == 2 and log.attribute("group").values() == ["g1", "g2"]
    assert log.case_attributes["channel"].values() == ["web"]


def test_it_refuses_what_is_not_a_log_with_a_clear_error(tmp_path) -> None:
    with pytest.raises(EventLogError, match="no such file"):
        read_log(tmp_path / "missing.xes")
    with pytest.raises(EventLogError, match="no 'case_id' column"):
        read_log(write(tmp_path, "x.csv", "a,b\n1,2\n"))
    with pytest.raises(EventLogError):
        read_log(write(tmp_path, "x.xes", "not xml at all"))
    with pytest.raises(EventLogError):
        read_log(write(tmp_path, "y.xes", "<log><trace><event></trace></log>"))


def sample_log(tmp_path):
    return read_log(write(tmp_path, "in.csv",
                          "case_id,activity,timestamp,resource,lifecycle,group,note,case:channel\n"
                          "c1,Ask,2024-01-01T08:00:00.123456+02:00,ann,start,front,\"a<b & \"\"c\"\"\",web\n"
                          "c1,Ask,2024-01-01T09:00:00+02:00,ann,complete,front,,web\n"
                          "c1,Pay,2024-01-03T09:00:00+02:00,bob,complete,back,ünïcode,web\n"
                          "c2,Ask,2024-01-02T09:00:00Z,ann,complete,front,,phone\n"))


def same(a, b) -> None:
    assert len(a) == len(b)
    assert a.case.values() == b.case.values()
    assert a.activity.values() == b.activity.values()
    assert np.array_equal(a.time, b.time)
    for key in a.attributes:
        assert a.attributes[key].values() == b.attributes[key].values(), key
    for key in a.case_attributes:
        assert a.case_attributes[key].values() == b.case_attributes[key].values(), key


def test_it_round_trips_csv_to_xes_to_csv_and_xes_to_xes_without_loss(tmp_path) -> None:
    first = sample_log(tmp_path)
    write_log(first, tmp_path / "a.xes.gz")
    second = read_log(tmp_path / "a.xes.gz")
    same(first, second)
    write_log(second, tmp_path / "b.csv")
    same(first, read_log(tmp_path / "b.csv"))
    write_log(second, tmp_path / "c.xes")
    same(second, read_log(tmp_path / "c.xes"))


def test_the_xes_we_write_has_the_standard_structure_for_an_independent_parser(tmp_path) -> None:
    log = sample_log(tmp_path)
    write_log(log, tmp_path / "out.xes.gz")
    root = ET.fromstring(gzip.decompress((tmp_path / "out.xes.gz").read_bytes()))
    assert root.tag == f"{XES}log" and root.get("xes.version") == "1849-2016"
    assert root.get("xes.features") == "nested-attributes"
    children = [c.tag.removeprefix(XES) for c in root]
    # IEEE 1849 order: extensions, globals, classifiers, (attributes), traces.
    order = {"extension": 0, "global": 1, "classifier": 2, "trace": 4}
    assert [order[t] for t in children] == sorted(order[t] for t in children)
    assert {e.get("prefix") for e in root.findall(f"{XES}extension")} >= {"concept", "time", "org", "lifecycle"}
    assert {g.get("scope") for g in root.findall(f"{XES}global")} == {"trace", "event"}
    assert root.findall(f"{XES}classifier")[0].get("keys") == "concept:name"
    traces = root.findall(f"{XES}trace")
    assert len(traces) == 2
    ev = traces[0].findall(f"{XES}event")[0]
    attrs = {a.get("key"): (a.tag.removeprefix(XES), a.get("value")) for a in ev}
    assert attrs["concept:name"] == ("string", "Ask")
    assert attrs["time:timestamp"] == ("date", "2024-01-01T06:00:00.123456+00:00")
    assert attrs["note"] == ("string", 'a<b & "c"')  # escaped on write, restored by the parser
    assert attrs["org:group"] == ("string", "front")


def test_it_computes_flow_figures_by_the_documented_definitions(tmp_path) -> None:
    text = "case_id,activity,timestamp,group\n" + "\n".join([
        "p,a,2024-01-01T00:00:00Z,A", "p,b,2024-01-01T00:00:01Z,B", "p,c,2024-01-01T00:00:02Z,",
        "p,d,2024-01-01T00:00:03Z,B", "p,e,2024-01-01T00:00:04Z,A",  # runs A,B,A: ping-pong, 2 handovers
        "q,a,2024-01-02T00:00:00Z,A", "q,b,2024-01-03T00:00:00Z,B",  # 1 handover, no ping-pong
    ]) + "\n"
    f = analyse(read_log(write(tmp_path, "f.csv", text)), "group")
    assert f["cases"] == 2 and f["events"] == 7 and f["variants"] == 2 and f["activities"] == 5
    assert f["handovers_per_case"] == 1.5 and f["ping_pong_rate"] == 0.5
    ab = next(r for r in f["directly_follows"] if (r["from"], r["to"]) == ("a", "b"))
    assert ab["count"] == 2 and ab["mean_seconds"] == pytest.approx((1 + 86400) / 2)
    assert f["case_duration_days"]["median"] == pytest.approx((4 / 86400 + 1) / 2)
    with pytest.raises(KeyError, match="no event attribute"):
        analyse(read_log(write(tmp_path, "f.csv", text)), "nope")


ODD_XES = """<?xml version='1.0' encoding='UTF-8'?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <string key="meta" value="log level"><string key="nested" value="x"/></string>
  <trace>
    <!-- a comment with <event> in it -->
    <string key='concept:name' value='t&amp;1'/>
    <event>
      <string value="A" key="concept:name"/>
      <date key="time:timestamp"   value="2024-01-01T10:00:00+01:00"/>
      <list key="tags"><values><string key="t" value="x"/></values></list>
      <int key="n" value="3"/>
    </event>
    <event><string key="concept:name" value="B"/></event>
  </trace>
</log>
"""


def test_it_reads_unusual_but_valid_xes_through_the_general_parser(tmp_path) -> None:
    log = read_log(write(tmp_path, "odd.xes", ODD_XES))
    assert log.case.names == ["t&1"] and log.activity.values() == ["A"]
    assert log.time.tolist() == [1704099600 * 1_000_000]
    assert log.attributes["n"].values() == ["3"] and log.types["n"] == "int"
    assert "1 events without a readable timestamp were dropped" in log.problems


def test_the_three_xes_readers_agree(tmp_path) -> None:
    from tandem.engines.eventlog.xes import _read_etree, _read_fast, _read_numpy, read_bytes

    write_log(sample_log(tmp_path), tmp_path / "s.xes")
    data = read_bytes(tmp_path / "s.xes")
    fast, numpy_, general = (_read_fast(data), _read_numpy(data), _read_etree(data))
    assert fast is not None and numpy_ is not None
    same(numpy_.log([]), fast.log([]))
    same(numpy_.log([]), general.log([]))


def test_nested_attributes_go_to_the_regex_tokenizer_and_read_the_same_as_etree() -> None:
    from tandem.engines.eventlog.xes import _read_etree, _read_fast, _read_numpy

    data = b"""<log xmlns="http://www.xes-standard.org/"><trace><string key="concept:name" value="c"/>
    <event><string key="concept:name"  value="A &amp; B"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/>
    <list key="tags"><values><string key="concept:name" value="not me"/></values></list>
    <string key="org:resource" value="r"><string key="inner" value="x"/></string></event></trace></log>"""
    assert _read_numpy(data) is None
    fast = _read_fast(data)
    assert fast is not None
    a, b = fast.log([]), _read_etree(data).log([])
    same(a, b)
    assert a.activity.names == ["A & B"] and a.attributes["org:resource"].values() == ["r"]
    assert set(a.attributes) == {"org:resource"}
