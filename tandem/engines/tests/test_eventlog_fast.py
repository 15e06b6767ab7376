"""The fast paths of the event-log readers give exactly what the slow, reference paths give.

CSV: the numpy splitter (``split_fast``) against the ``csv`` module (``read_rows``), on the
shared logs written as CSV and on odd files. Timestamps: the vectorised parser against the
per-value one. Values: ``fields.factorize`` against a dict. And ``tandem analyse`` runs without
Django.
"""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tandem.engines.eventlog import EventLog, analyse, read_log, write_log
from tandem.engines.eventlog import fields as fields_module
from tandem.engines.eventlog.csvlog import _sniff, read_rows, split_fast
from tandem.engines.eventlog.fields import Words, factorize
from tandem.engines.eventlog.timestamps import MISSING, _fallback, parse_timestamps

DATA = Path("/work/shared/data")
SHARED = ["Helpdesk.xes.gz", "BPI_Challenge_2012_W.xes.gz", "env_permit.xes.gz"]


def slow_csv(path: Path) -> EventLog:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    data = raw[3:] if raw[:3] == b"\xef\xbb\xbf" else raw
    return read_rows(path, data, _sniff(data[:65536].decode("utf-8", "replace")))


def uses_fast_path(path: Path) -> bool:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    return split_fast(data, _sniff(data[:65536].decode("utf-8", "replace"))) is not None


def assert_same(a: EventLog, b: EventLog, *, key_order: bool = True) -> None:
    """Equal logs; ``key_order=False`` when the attribute keys may come in another order."""
    assert a.problems == b.problems
    assert a.case.names == b.case.names and a.case.codes.tolist() == b.case.codes.tolist()
    assert a.activity.names == b.activity.names and a.activity.codes.tolist() == b.activity.codes.tolist()
    assert a.time.tolist() == b.time.tolist()
    assert list(a.attributes) == list(b.attributes) if key_order else sorted(a.attributes) == sorted(b.attributes)
    for key in a.attributes:
        assert a.attributes[key].values() == b.attributes[key].values(), key
        assert a.attributes[key].names == b.attributes[key].names, key
    assert list(a.case_attributes) == list(b.case_attributes) if key_order else \
        sorted(a.case_attributes) == sorted(b.case_attributes)
    for key in a.case_attributes:
        assert a.case_attributes[key].values() == b.case_attributes[key].values(), key
        assert a.case_attributes[key].names == b.case_attributes[key].names, key


@pytest.mark.skipif(not DATA.is_dir(), reason="shared logs not present")
@pytest.mark.parametrize("name", SHARED)
def test_the_fast_csv_path_reads_the_shared_logs_as_the_csv_module_does(name, tmp_path) -> None:
    xes = read_log(DATA / name)
    path = tmp_path / name.replace(".xes.gz", ".csv")
    write_log(xes, path)
    assert uses_fast_path(path)
    fast = read_log(path)
    assert_same(fast, slow_csv(path))
    assert analyse(fast, "org:resource") == analyse(slow_csv(path), "org:resource")
    # And the same log as the XES it came from (times to the millisecond, as written).
    assert fast.case.values() == xes.case.values() and fast.time.tolist() == xes.time.tolist()


ODD = {
    "crlf line ends": (True, "case_id,activity,timestamp\r\nc1,A,2024-01-01T00:00:00Z\r\nc1,B,2024-01-01T01:00:00Z\r\n"),
    "mixed line ends": (True, "case_id,activity,timestamp\nc1,A,2024-01-01T00:00:00Z\r\nc1,B,2024-01-01T01:00:00Z\n"),
    "blank lines": (True, "case_id,activity,timestamp\n\nc1,A,2024-01-01T00:00:00Z\n\n\nc1,B,2024-01-02\n\n"),
    "blank crlf lines": (True, "case_id,activity,timestamp\r\n\r\nc1,A,2024-01-01T00:00:00Z\r\n\r\n"),
    "no final line end": (True, "case_id,activity,timestamp\nc1,A,2024-01-01T00:00:00Z\nc2,B,2024-01-01T01:00:00Z"),
    "spaces after the delimiter": (True, "case_id, activity, timestamp, resource\nc1,  A, 2024-01-01 10:00:00,  ann \n"
                                         "c1, B ,2024-01-01 09:00:00+01:00, \n"),
    "missing values": (True, "case_id;activity;timestamp;resource\nc1;A;;ann\n;A;2024-01-01T00:00:00Z;ann\n"
                             "c2;;2024-01-01T00:00:00Z;\nc2;A;2024-01-01T00:00:00Z;bob\nc2;A;2024-01-01T00:00:00Z;bob\n"),
    "unsorted, zones and epochs": (True, "case_id\tactivity\ttimestamp\nc1\tB\t2024-01-02T00:00:00+02:00\n"
                                         "c2\tA\t1704067200\nc1\tA\t2024/01/01 23:00:00Z\nc1\tC\t01-01-2024 10:00:00\n"
                                         "c2\tB\tnot a time\nc2\tC\t2024-01-01T00:00:00.123456789+0530\n"),
    "case attributes": (True, "case_id,activity,timestamp,case:channel,case:city,x\nc1,A,2024-01-01,,Oslo,1\n"
                              "c2,A,2024-01-01,web,,2\nc1,B,2024-01-02,phone,Bergen,\nc2,B,2024-01-02,mail,,3\n"),
    "long values": (True, "case_id,activity,timestamp\n" + "".join(
        f"{'c' * (70 + i % 3)},{'activity ' * (i % 12)}{i % 5},2024-01-01T00:00:{i % 60:02d}Z\n" for i in range(40))),
    "non-utf-8 bytes": (True, "case_id,activity,timestamp\nc1,caf\udce9,2024-01-01T00:00:00Z\nc1,caf\udce8,2024-01-01T00:00:01Z\n"
                              "c1,café,2024-01-01T00:00:02Z\n"),
    "pm4py names, pipes": (True, "case:concept:name|concept:name|time:timestamp|org:group\nx|A|2024-01-01T00:00:00|g\n"),
    "quoted fields": (False, 'case_id,activity,timestamp\nc1,"A, then B",2024-01-01T00:00:00Z\n'),
    "ragged rows": (False, "case_id,activity,timestamp,resource\nc1,A,2024-01-01T00:00:00Z\nc1,B,2024-01-02,ann,extra\n"),
    "lone carriage return": (False, "case_id,activity,timestamp\rc1,A,2024-01-01T00:00:00Z\r"),
    "header only": (False, "case_id,activity,timestamp\n"),
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_csv_files_read_the_same_on_both_paths(name, tmp_path) -> None:
    fast_expected, text = ODD[name]
    path = tmp_path / "odd.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert uses_fast_path(path) == fast_expected
    assert_same(read_log(path), slow_csv(path))


def test_a_byte_order_mark_and_gzip_change_nothing(tmp_path) -> None:
    text = "case_id,activity,timestamp\nc1,A,2024-01-01T00:00:00Z\nc1,B,2024-01-01T00:00:01Z\n"
    plain, marked, zipped = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv.gz"
    plain.write_text(text)
    marked.write_text(text, encoding="utf-8-sig")
    zipped.write_bytes(gzip.compress(("\ufeff" + text).encode()))
    for path in (marked, zipped):
        assert_same(read_log(path), read_log(plain))
    assert uses_fast_path(marked)


def random_timestamp(rng: random.Random) -> str:
    moment = datetime(1950, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 120 * 365 * 86400))
    text = moment.strftime(rng.choice(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"]))
    if rng.random() < 0.6:
        text += rng.choice([".", ","]) + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
    zone = rng.random()
    if zone < 0.3:
        text += rng.choice(["Z", "z"])
    elif zone < 0.7:
        hours, minutes = rng.randint(0, 14), rng.choice([0, 30, 45])
        sep = rng.choice([":", ""])
        text += f"{rng.choice('+-')}{hours:02d}{sep}{minutes:02d}"
    return text


ODD_TIMES = ["", "  ", "nonsense", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00+", "2024-01-01T00:00:00.Z",
             "2024-01-01", "1704067200", "1704067200123", "2024-01-01T00:00", "2024-01-01T00:00:00 Z",
             "2024-01-01T00:00:00+01:00:00", "2024-01-01T00:00:00.1234567890123456789012345Z", "01-02-2024 10:00:00",
             "２０２４-01-01T00:00:00Z"]


def test_the_vectorised_timestamp_parser_agrees_with_the_per_value_one() -> None:
    rng = random.Random(5)
    values = [random_timestamp(rng) for _ in range(3000)] + ODD_TIMES
    got = parse_timestamps(values)
    expected, naive, unparseable, offsets = [], 0, 0, set()
    for v in values:
        one = _fallback(v)
        if one is None:
            expected.append(MISSING)
            unparseable += bool(v.strip())
            continue
        expected.append(one[0])
        if one[1] is None:
            naive += 1
        else:
            offsets.add(one[1])
    # The per-value parser keeps at most microseconds too, but rounds where the fast one cuts.
    for v, g, e in zip(values, got.micros.tolist(), expected, strict=True):
        assert g == e or (e != MISSING and abs(g - e) <= 1 and len(v.split(".")[-1]) > 6), v
    assert (got.naive, got.unparseable, got.offsets) == (naive, unparseable, len(offsets))
    # Bytes (as the XES reader passes them) give the same.
    assert parse_timestamps([v.encode() for v in values]).micros.tolist() == got.micros.tolist()


def test_the_vectorised_parser_counts_on_past_the_end_of_a_day_or_month() -> None:
    # ISO 8601's 24:00:00 is the end of the day; a leap second or a 30 February (what some
    # exporters write) count on rather than dropping the event, as they always have.
    got = parse_timestamps(["2024-01-01T24:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01T00:00:60Z"]).micros
    expected = ["2024-01-02T00:00:00", "2024-03-01T00:00:00", "2024-01-01T00:01:00"]
    assert got.tolist() == [int(datetime.fromisoformat(e + "+00:00").timestamp()) * 1_000_000 for e in expected]


def dict_codes(values: list[bytes]) -> list[int]:
    index: dict[bytes, int] = {b"": -1}
    return [index.setdefault(v, len(index) - 1) for v in values]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_factorize_codes_values_as_a_dict_does(seed) -> None:
    rng = random.Random(seed)
    pool = [bytes(rng.choice(b"ab\x00\xff,") for _ in range(rng.randint(0, 30))) for _ in range(50)]
    values = [rng.choice(pool) for _ in range(rng.randint(1, 3000))]
    values = values[: len(values) // 2] + sorted(values[len(values) // 2:])  # runs, as cases come
    data = b"".join(values)
    ends = np.cumsum([len(v) for v in values])
    starts = ends - [len(v) for v in values]
    got = factorize(Words(data), starts, ends)
    assert got is not None
    codes, first = got
    assert codes.tolist() == dict_codes(values)
    assert [values[i] for i in first.tolist()] == list(dict.fromkeys(v for v in values if v))


def test_factorize_survives_a_hash_collision(monkeypatch) -> None:
    monkeypatch.setattr(fields_module, "_MULT", [np.uint64(0)] * 8)  # every value hashes alike
    values = [b"x", b"yy", b"", b"x", b"zzzzzzzzzzzz", b"yy"]
    data = b"".join(values)
    ends = np.cumsum([len(v) for v in values])
    got = factorize(Words(data), ends - [len(v) for v in values], ends)
    assert got is not None
    codes, _ = got
    assert codes.tolist() == dict_codes(values)


def test_words_read_values_at_the_very_end_of_a_short_buffer() -> None:
    data = b"abc"
    words = Words(data)
    got = words.fixed(np.array([0, 1, 2, 3]), np.array([3, 3, 3, 3]), 8)
    assert got.tolist() == [b"abc", b"bc", b"c", b""]


def test_tandem_analyse_runs_without_django(tmp_path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("case_id,activity,timestamp\nc1,A,2024-01-01T00:00:00Z\nc1,B,2024-01-02T00:00:00Z\n")
    script = (
        "import sys\nfrom tandem.cli import main\n"
        f"try:\n    main(['tandem', 'analyse', '--log', {str(path)!r}, '--json'])\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "print('django' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "False"
    assert '"events": 2' in result.stdout


@pytest.mark.skipif(not DATA.is_dir(), reason="shared logs not present")
@pytest.mark.parametrize("name", ["Helpdesk.xes.gz", "env_permit.xes.gz"])
def test_the_numpy_xes_path_reads_what_xml_etree_reads(name) -> None:
    from tandem.engines.eventlog import xes

    data = xes.read_bytes(DATA / name)
    fast = xes._read_numpy(data)
    assert fast is not None
    assert_same(fast.log([]), xes._read_etree(data).log([]), key_order=False)
