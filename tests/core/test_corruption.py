"""The corruption suite of issue 16: single-record corruptions of real day files
(:mod:`support.corrupt`), each asked in one request with a window over the damaged record
and its neighbours, a clean window an hour away in the same file and a window of another,
intact file, and judged against ObsPy reading the *intact* files:

- no exception escapes ``extract()``, no HTTP route answers 5xx;
- a window answered ``ok`` is ObsPy's reading of the intact records exactly (grid within
  1 µs, samples, mask): a corruption may cost samples but never change them;
- the clean windows are ``ok`` and exact;
- a window that is not ``ok`` says why (a non-empty message);
- a ``partial`` answer holds only samples that ObsPy's intact reading has at the same
  instants, and ``nodata`` is not answered where the intact neighbours of the damaged
  record have samples (counted apart, asserted by their own test).

Every case runs on a local archive; a sample (each class once, and the cases issue 16
names) also through moto S3 and the HTTP routes. Controls ask the same windows of the
intact files. ``-s`` prints the counts per corruption class; ``-m corruption_extended``
runs the long set (every case on the 40 Hz file, bit flips in every fifth record).
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import httpx
import numpy as np
import pytest
from obspy import Stream, UTCDateTime
from pymseed import MiniSEEDError, MS3Record

from seiswindow import Archive, Extractor, Status, Window, WindowResult
from seiswindow.archive import layout_named
from seiswindow.http import INVOCATIONS_PATH, create_app
from seiswindow.locate import FileIndexCache
from seiswindow.nstime import NS_PER_S, format_time
from seiswindow.store import LocalStore, S3Store
from support.corrupt import Corruption, corruptions
from support.oracle import assert_matches_oracle, oracle
from support.s3server import REGION, default_data_root, s3_client
from support.serving import serving

DATA = default_data_root()
_WAVEFORMS = "continuous_waveforms"
WBM = DATA / "scedc-pds" / _WAVEFORMS / "2022/2022_002/CIWBM__LHZ___2022002.ms"
NCH = DATA / "scedc-pds" / _WAVEFORMS / "2022/2022_002/CINCH__LHZ___2022002.ms"
CCA = DATA / "scedc-pds" / _WAVEFORMS / "2022/2022_002/CICCA__BHN___2022002.ms"
RUSS = DATA / "ncedc-pds" / _WAVEFORMS / "BK/2022/2022.002/RUSS.BK.LHZ.00.D.2022.002"
YUBA = DATA / "ncedc-pds" / _WAVEFORMS / "BK/2022/2022.002/YUBA.BK.LHZ.00.D.2022.002"
MINUTE = 60 * NS_PER_S


# -- the files and their intact records -----------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A day file to corrupt, with an intact file of another channel asked alongside."""

    label: str
    layout: str
    path: Path
    other: Path
    cases: Callable[[bytes], list[Corruption]]

    @property
    def bucket_root(self) -> Path:
        return DATA / f"{self.layout}-pds"

    def key(self, path: Path) -> str:
        return path.relative_to(self.bucket_root).as_posix()

    def window(self, path: Path, start: int, end: int) -> Window:
        parsed = layout_named(self.layout).parse_key(self.key(path))
        assert parsed is not None, path
        # Whole microseconds: the HTTP route takes ISO times of microsecond precision.
        return Window(*parsed[0], start // 1000 * 1000, end // 1000 * 1000)


# The 40 Hz file is 3.8 MB: only the corruptions issue 16 found harmful in it.
_CCA_MIDDLE = {
    "rate-factor:bit0",  # 41 Hz
    "rate-factor:bit2",  # 44 Hz
    "rate-factor:bit3",  # 32 Hz
    "rate-factor:bit4",  # 56 Hz
    "rate-factor:0",
    "station:0xff",
    "channel:0xff",
    "b1000-encoding:0",
    "data-bitflip:seed0",
    "shuffle:swap-neighbour",
}
_CCA_FIRST = {
    "time-correction:+123",  # 12.3 ms: not a whole number of 25 ms samples
    "time-correction:+5000",
    "fraction:+123",
    "b1001-microseconds:+50",
    "reserved:0xff",
    "btime-unused:255",
}


def _cca_cases(data: bytes) -> list[Corruption]:
    n = len(data) // 512
    return corruptions(data, records=(n // 2,), only=_CCA_MIDDLE) + corruptions(
        data, records=(0,), only=_CCA_FIRST
    )


SOURCES = {
    "WBM": Source("WBM", "scedc", WBM, NCH, corruptions),
    "RUSS": Source("RUSS", "ncedc", RUSS, YUBA, corruptions),
    "CCA": Source("CCA", "scedc", CCA, NCH, _cca_cases),
}


# Run with ``-m corruption_extended`` (about a minute more): every case on the 40 Hz file,
# and bit flips in the data frames of every fifth record.
EXTENDED = {
    "CCA-all": Source("CCA-all", "scedc", CCA, NCH, corruptions),
    "WBM-flips": Source(
        "WBM-flips",
        "scedc",
        WBM,
        NCH,
        lambda data: corruptions(
            data, records=range(0, len(data) // 512, 5), only={"data-bitflip", "data-burst"}, flip_seeds=8
        ),
    ),
}


@cache
def _records(path: Path) -> list[tuple[int, int]]:
    """(start, end) of each record of the intact file, in file order."""
    spans = []
    for msr in MS3Record.from_buffer(path.read_bytes()):
        spans.append((int(msr.starttime), int(msr.endtime)))  # the record object is reused
    return spans


@cache
def _expected(path: Path, window: Window) -> Stream:
    return oracle([path], window)


@dataclass(frozen=True)
class Request:
    """The three windows of one case's request."""

    damaged: Window  #: over the damaged record and its neighbours
    clean: Window  #: the same file, an hour away from the damage
    other: Window  #: another, intact file

    @property
    def windows(self) -> list[Window]:
        return [self.damaged, self.clean, self.other]


def _request(source: Source, case: Corruption) -> Request:
    spans = _records(source.path)
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    start, end = spans[case.record]
    pad = end - start
    damaged = source.window(source.path, max(first, start - pad), min(last, end + pad))
    ten = 10 * MINUTE
    # A truncated file lost everything after the cut: its clean window lies before it.
    if case.kind != "truncate" and damaged.end + 60 * MINUTE + ten < last:
        clean = source.window(source.path, damaged.end + 60 * MINUTE, damaged.end + 60 * MINUTE + ten)
    else:
        clean = source.window(source.path, damaged.start - 60 * MINUTE - ten, damaged.start - 60 * MINUTE)
    # From a record's first sample: a window edge half-way between two samples is a tie
    # that ObsPy's trim and our gap count decide, which is not what this suite is about.
    middle, _ = _records(source.other)[len(_records(source.other)) // 2]
    other = source.window(source.other, middle, middle + ten)
    return Request(damaged, clean, other)


# -- judging one answer ---------------------------------------------------------------------


@dataclass
class Outcome:
    """How one case was answered."""

    source: str
    via: str
    case: str
    kind: str
    status: str = "raised"  #: of the damaged window
    violations: list[str] = field(default_factory=list)
    wrong_partial: str = ""  #: why the damaged window's partial samples are wrong, if they are
    false_nodata: str = ""  #: the damaged window said nodata though its intact neighbours have samples
    gap_like: bool = (
        False  #: an end record moved by whole periods away from the rest: a real gap to any reader
    )


def _wrong_samples(result: WindowResult, expected: Stream) -> str:
    """Why the samples of ``result`` are not ObsPy's intact samples at the same instants
    ('' when each one is)."""
    if not result.segments:
        return ""
    if len(expected) == 0:
        return f"{result.npts} samples where ObsPy's intact reading has none"
    trace = expected[0]
    rate, origin = trace.stats.sampling_rate, trace.stats.starttime.ns
    data = np.ma.masked_array(trace.data)
    mask = np.ma.getmaskarray(data)
    for seg in result.segments:
        where = format_time(seg.start)
        if seg.sampling_rate != rate:
            return f"segment at {where} of {seg.npts} samples at {seg.sampling_rate} Hz, ObsPy {rate} Hz"
        k = round((seg.start - origin) / 1e9 * rate)
        off = seg.start - (origin + round(k * 1e9 / rate))
        if abs(off) > 1_000:
            return f"segment at {where} is {off / 1000:+.0f} us off ObsPy's sample times"
        if k < 0 or k + seg.npts > len(data):
            return f"segment at {where} of {seg.npts} samples reaches outside ObsPy's trace"
        if mask[k : k + seg.npts].any():
            return f"segment at {where} has samples where ObsPy's intact reading has a gap"
        differ = np.flatnonzero(np.asarray(seg.samples) != data.data[k : k + seg.npts])
        if len(differ):
            at = format_time(seg.start + round(int(differ[0]) * 1e9 / rate))
            return f"{len(differ)} of {seg.npts} samples differ from ObsPy's, the first at {at}"
    return ""


def _assertion(exc: AssertionError) -> str:
    """The failed check of the oracle: its line and, when numpy or pytest say, why."""
    line = (traceback.extract_tb(exc.__traceback__)[-1].line or "").strip()
    why = " ".join(str(exc).split())[:200]
    return f"{line} ({why})" if why else line


def _describe(result: WindowResult, expected: Stream) -> str:
    """Our grid and segments against ObsPy's trace, for the message of a failure."""
    span = result.span
    ours = (
        f"ours {format_time(span.start)} {span.npts} samples at {span.sampling_rate:g} Hz"
        if span
        else "ours no span"
    )
    segs = ", ".join(f"{format_time(s.start)}+{s.npts}@{s.sampling_rate:g}Hz" for s in result.segments[:4])
    theirs = ", ".join(
        f"{t.stats.starttime} {t.stats.npts} samples at {t.stats.sampling_rate:g} Hz" for t in expected
    )
    return f"{ours} [{segs}]; ObsPy {theirs or 'nothing'}"


def _judge(outcome: Outcome, request: Request, source: Source, results: list[WindowResult]) -> None:
    files = [source.path, source.path, source.other]
    names = ["damaged", "clean", "other"]
    assert [r.window for r in results] == request.windows
    for name, path, result in zip(names, files, results, strict=True):
        expected = _expected(path, result.window)
        if name == "damaged":
            outcome.status = result.status.value
        if result.status is Status.OK:
            try:
                assert_matches_oracle(result, expected)
            except AssertionError as exc:
                outcome.violations.append(
                    f"{name} window ok but not ObsPy's intact reading: {_assertion(exc)}; "
                    f"{_describe(result, expected)}"
                )
        elif name != "damaged":
            outcome.violations.append(f"{name} window {result.status}: {result.message[:200]}")
        elif not result.message:
            outcome.violations.append(f"damaged window {result.status} without a message")
        if name == "damaged" and result.status is Status.PARTIAL:
            outcome.wrong_partial = _wrong_samples(result, expected)
        if name == "damaged" and result.status is Status.NODATA and len(expected):
            # The window holds records either side of the damaged one: "no data" is false.
            outcome.false_nodata = f"nodata ({result.message[:160]}), ObsPy's intact reading has {expected[0].stats.npts} samples"


def _extract(outcome: Outcome, extractor: Extractor, request: Request, source: Source) -> None:
    try:
        results = extractor.extract(request.windows)
    except Exception as exc:  # noqa: BLE001 - what escapes is the finding
        outcome.violations.append(f"extract raised {type(exc).__name__}: {str(exc)[:200]}")
        return
    _judge(outcome, request, source, results)


# -- the ledger and its table ---------------------------------------------------------------

LEDGER: list[Outcome] = []


_COLUMNS = (
    "cases",
    "ok-exact",
    "ok-wrong",
    "partial",
    "nodata",
    "error",
    "raised/5xx",
    "violations",
    "wrong-partial",
    "false-nodata",
)


def _counts(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> dict[str, Counter[str]]:
    """Per ``key``: cases, the damaged window's status (an ``ok`` split into exact and
    wrong), and the cases with a violation, a wrong partial answer or a false nodata."""
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        row = rows[key(o)]
        row["cases"] += 1
        if o.status == "ok":
            wrong = any(v.startswith("damaged") for v in o.violations)
            row["ok-wrong" if wrong else "ok-exact"] += 1
        else:
            row[o.status if o.status in _COLUMNS else "raised/5xx"] += 1
        row["violations"] += bool(o.violations)
        row["wrong-partial"] += bool(o.wrong_partial)
        row["false-nodata"] += bool(o.false_nodata)
    return rows


def _table(outcomes: list[Outcome], key: Callable[[Outcome], str], title: str) -> str:
    rows = _counts(outcomes, key)
    total: Counter[str] = Counter()
    for row in rows.values():
        total.update(row)
    width = max(len(k) for k in [*rows, title, "total"])
    lines = [f"{title:<{width}} " + " ".join(f"{c:>13}" for c in _COLUMNS)]
    for name in sorted(rows):
        lines.append(f"{name:<{width}} " + " ".join(f"{rows[name][c]:>13}" for c in _COLUMNS))
    lines.append(f"{'total':<{width}} " + " ".join(f"{total[c]:>13}" for c in _COLUMNS))
    return "\n".join(lines)


def _findings(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        where = f"{o.via}/{o.source} {o.case}"
        lines += [f"VIOLATION {where}: {v}" for v in o.violations]
        if o.wrong_partial:
            lines.append(f"WRONG-PARTIAL {where}: {o.wrong_partial}")
        if o.false_nodata:
            lines.append(f"FALSE-NODATA {where}: {o.false_nodata}")
    return "\n".join(lines)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if LEDGER:
        print("\n\ncorruption suite (issue 16): cases per class, by the damaged window's answer")
        print(_table(LEDGER, lambda o: o.kind, "class"))
        print(_table(LEDGER, lambda o: f"{o.via}/{o.source}", "archive/file"))


def _record(outcomes: list[Outcome]) -> None:
    LEDGER.extend(outcomes)
    print(f"\n{_findings(outcomes)}")


def _violations(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.case}: {v}" for o in outcomes for v in o.violations]


# -- local archive: every case --------------------------------------------------------------


def _controls(source: Source, data: bytes) -> list[Corruption]:
    """The intact file asked as the cases are: the first, a middle and the last record."""
    n = len(_records(source.path))
    return [Corruption(f"intact:none@{i}", data, i) for i in (0, n // 2, n - 1)]


@cache
def _gap_like(intact: bytes, case: Corruption) -> bool:
    """Whether the case moves the file's first record earlier or its last record later by
    (within 1 % of) a whole number of sample periods: that reads as a real gap before the
    last record (after the first) to libmseed, ObsPy and us alike; only the day's midnight,
    which such a record may then cross, could tell (see README, "How a window is read")."""
    try:  # pymseed reuses one record object while iterating: copy the fields out
        before = [(r.starttime, r.samprate) for r in MS3Record.from_buffer(intact)]
        after = [(r.starttime, r.samprate) for r in MS3Record.from_buffer(case.data)]
    except (MiniSEEDError, ValueError):  # a case libmseed cannot read is not of this kind
        return False
    if len(before) != len(after) or case.record not in (0, len(before) - 1):
        return False
    (old_start, old_rate), (new_start, new_rate) = before[case.record], after[case.record]
    shift = new_start - old_start
    period = 1e9 / old_rate
    whole = abs(shift - round(shift / period) * period) <= 0.01 * period
    away = shift > 0 if case.record else shift < 0
    return whole and away and abs(shift) >= period * 0.99 and new_rate == old_rate


def _local_outcomes(label: str, root: Path, *, control: bool = False) -> list[Outcome]:
    """Every case of ``label`` (or its controls), each asked of a local archive holding
    the damaged file and the other, intact file."""
    source = {**SOURCES, **EXTENDED}[label]
    intact = source.path.read_bytes()
    root = root / ("control" if control else "cases")
    target = root / source.key(source.path)
    other = root / source.key(source.other)
    target.parent.mkdir(parents=True, exist_ok=True)
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(source.other.read_bytes())
    outcomes = []
    for case in _controls(source, intact) if control else source.cases(intact):
        target.write_bytes(case.data)
        outcome = Outcome(source.label, "local", case.name, case.kind, gap_like=_gap_like(intact, case))
        # A new extractor per case: nothing known of the file from the case before.
        archive = Archive(LocalStore(root), layout_named(source.layout))
        with Extractor(archive, max_workers=4) as extractor:
            _extract(outcome, extractor, _request(source, case), source)
        outcomes.append(outcome)
    if not control:
        _record(outcomes)
    return outcomes


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corrupt")


@pytest.mark.parametrize("label", list(SOURCES))
def test_control_intact_files_answer_ok_and_exact(label: str, local_root: Path) -> None:
    """The suite's own check: the same requests of the intact file are ``ok`` and ObsPy's,
    so what fails below is the damage, not the windows asked."""
    outcomes = _local_outcomes(label, local_root / label, control=True)
    assert [o.status for o in outcomes] == ["ok"] * 3, [(o.case, o.status) for o in outcomes]
    assert not _violations(outcomes)


@pytest.mark.parametrize("label", list(SOURCES))
def test_no_wrong_ok_and_clean_windows_exact(label: str, local_root: Path) -> None:
    violations = _violations(_local_outcomes(label, local_root / label))
    assert not violations, f"{len(violations)} violations:\n" + "\n".join(violations[:40])


@pytest.mark.parametrize("label", list(SOURCES))
def test_answers_short_of_ok_are_true(label: str, local_root: Path) -> None:
    """A partial answer holds only intact samples at their intact times; a nodata answer
    is not given for a window whose intact neighbours of the damaged record have samples."""
    outcomes = _local_outcomes(label, local_root / label)
    wrong = [
        f"{o.case}: {o.wrong_partial or o.false_nodata}"
        for o in outcomes
        if (o.wrong_partial or o.false_nodata) and not o.gap_like
    ]
    gap_like = [o.case for o in outcomes if o.gap_like and o.wrong_partial]
    print(f"\n{label}: {len(gap_like)} partial answers keep an end record moved like a real gap: {gap_like}")
    assert not wrong, f"{len(wrong)} partial or nodata answers that are not true:\n" + "\n".join(wrong[:40])


@pytest.mark.corruption_extended
@pytest.mark.parametrize("label", list(EXTENDED))
def test_extended_set(label: str, local_root: Path, request: pytest.FixtureRequest) -> None:
    if "corruption_extended" not in (request.config.option.markexpr or ""):
        pytest.skip("the extended corruption set: run with -m corruption_extended")
    outcomes = _local_outcomes(label, local_root / label)
    wrong = _violations(outcomes) + [
        f"{o.case}: {o.wrong_partial or o.false_nodata}"
        for o in outcomes
        if (o.wrong_partial or o.false_nodata) and not o.gap_like
    ]
    assert not wrong, f"{len(wrong)} violations and untrue answers:\n" + "\n".join(wrong[:40])


# -- S3 and the HTTP routes: a sample of cases ----------------------------------------------

#: Cases through moto S3 and through every HTTP route: those issue 16 saw answer wrong
#: samples or 5xx, and one of each structural class.
_SAMPLE = {
    "WBM": [
        "rate-factor:bit3@110",
        "rate-factor:0@110",
        "station:0xff@110",
        "channel:0xff@110",
        "b1000-encoding:0@110",
        "time-correction:+5000@0",
        "fraction:10000@0",
        "reserved:0xff@0",
        "nsamples:0@110",
        "year:65535@110",
        "b1000-reclen:+1@110",
        "data-bitflip:seed0@110",
        "truncate:mid-record@110",
        "duplicate:adjacent@110",
        "shuffle:move-to-end@110",
        "zero:record@110",
    ],
    "RUSS": ["rate-factor:0@19", "station:0xff@19", "b1000-encoding:0@19", "truncate:mid-record@37"],
}


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    """A fresh public bucket of this test's own on the moto server."""
    client = s3_client(moto_endpoint)
    name = f"corrupt-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_acl(Bucket=name, ACL="public-read")
    return name


def _sampled(label: str) -> list[Corruption]:
    """The named cases, and the first case of every class at the middle record."""
    source = SOURCES[label]
    every = source.cases(source.path.read_bytes())
    middle = len(_records(source.path)) // 2
    wanted = dict.fromkeys(_SAMPLE[label])
    for case in every:
        if case.record == middle and not any(n.startswith(case.kind + ":") for n in wanted):
            wanted[case.name] = None
    cases = {c.name: c for c in every if c.name in wanted}
    assert set(cases) == set(wanted), set(wanted) - set(cases)
    return [cases[name] for name in wanted]


def _http_checks(outcome: Outcome, client: httpx.Client, request: Request, source: Source) -> None:
    """Every route that answers windows: no 5xx; windows answered ``ok`` hold ObsPy's
    intact samples from ObsPy's first sample time; the clean windows are ``ok``."""
    body = json.dumps({"Windows": [w.to_request() for w in request.windows]}).encode()
    r = client.post("/timewindows", content=body, headers={"Content-Type": "application/json"})
    if r.status_code >= 500:
        outcome.violations.append(f"/timewindows answered {r.status_code}: {r.text[:200]}")
    else:
        answers = r.json()
        outcome.status = answers[0]["status"]
        names = ("damaged", "clean", "other")
        files = (source.path, source.path, source.other)
        for name, path, window, answer in zip(names, files, request.windows, answers, strict=True):
            if answer["status"] == "ok":
                expected = _expected(path, window)
                if len(expected) != 1:
                    outcome.violations.append(
                        f"/timewindows {name} window ok, ObsPy has {len(expected)} traces"
                    )
                    continue
                trace = expected[0]
                # Start within 1 µs, as assert_matches_oracle allows (records of one file
                # disagree by a microsecond), plus the half microsecond the answer's text
                # rounds to.
                start = UTCDateTime(answer["starttime"]).ns
                if abs(start - trace.stats.starttime.ns) > 1_500 or answer["data"] != trace.data.tolist():
                    outcome.violations.append(
                        f"/timewindows {name} window ok with {len(answer['data'])} samples from "
                        f"{answer['starttime']}, ObsPy {trace.stats.npts} from {trace.stats.starttime}"
                    )
            elif name != "damaged":
                outcome.violations.append(
                    f"/timewindows {name} window {answer['status']}: {answer['message']}"
                )
    # The Lambda runtime's invoke path answers the handler's value: an error is a document
    # with its status inside.
    r = client.post(INVOCATIONS_PATH, content=body)
    doc = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    inner = [doc.get(k) for k in ("status", "statusCode")] if isinstance(doc, dict) else []
    if r.status_code >= 500 or any(isinstance(v, int) and v >= 500 for v in inner):
        outcome.violations.append(f"invocation answered {r.status_code}: {r.text[:200]}")
    w = request.damaged
    query = {
        "net": w.network,
        "sta": w.station,
        "loc": w.location or "--",
        "cha": w.channel,
        "start": format_time(w.start)[:-1],
        "end": format_time(w.end)[:-1],
    }
    r = client.get("/fdsnws/dataselect/1/query", params=query)
    if r.status_code >= 500:
        outcome.violations.append(f"dataselect answered {r.status_code}: {r.text[:200]}")


@pytest.mark.parametrize("label", list(_SAMPLE))
def test_sample_through_s3_and_http(label: str, s3, moto_endpoint: str, bucket: str) -> None:
    source = SOURCES[label]
    client = s3_client(moto_endpoint)
    client.put_object(
        Bucket=bucket, Key=source.key(source.other), Body=source.other.read_bytes(), ACL="public-read"
    )
    outcomes = []
    # One extractor and server for all cases (a botocore client takes ~0.4 s to make); each
    # case overwrites the object and drops what the cache knew of it, so every case and
    # route starts from nothing known.
    cache = FileIndexCache()
    store = S3Store(bucket, endpoint_url=s3.url, max_seconds=20)
    with (
        Extractor(Archive(store, layout_named(source.layout)), max_workers=4, cache=cache) as extractor,
        serving(create_app(extractor=extractor)) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        for case in _sampled(label):
            client.put_object(Bucket=bucket, Key=source.key(source.path), Body=case.data, ACL="public-read")
            request = _request(source, case)
            for via in ("s3", "http"):
                for path in (source.path, source.other):
                    cache.drop(source.key(path))
                outcome = Outcome(source.label, via, case.name, case.kind)
                if via == "s3":
                    _extract(outcome, extractor, request, source)
                else:
                    _http_checks(outcome, http, request, source)
                outcomes.append(outcome)
    _record(outcomes)
    violations = _violations(outcomes)
    assert not violations, f"{len(violations)} violations:\n" + "\n".join(violations)
