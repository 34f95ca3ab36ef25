"""Records that do not fit their neighbours are left out; real changes are kept."""

from __future__ import annotations

from dataclasses import replace

from seiswindow.mseed import RecordHeader
from seiswindow.screen import screen

SID = "FDSN:CI_CCA__B_H_N"
PERIOD = 25_000_000  # 40 Hz


def _run(
    count: int, *, n: int = 400, start: int = 0, rate: float = 40.0, sid: str = SID
) -> list[RecordHeader]:
    """``count`` contiguous 512-byte records of ``n`` samples from ``start``."""
    period = round(1e9 / rate)
    out = []
    for k in range(count):
        begin = start + k * n * period
        out.append(RecordHeader(k * 512, 512, begin, begin + (n - 1) * period, rate, n, sid, 11))
    return out


def _left_out(headers: list[RecordHeader]) -> list[int]:
    return [h.offset // 512 for h in screen(headers).left_out]


def test_a_clean_run_is_kept_whole() -> None:
    screened = screen(_run(8))
    assert len(screened.kept) == 8 and screened.left_out == [] and screened.bad == []


def test_a_record_of_another_rate_among_its_neighbours_is_left_out() -> None:
    headers = _run(8)
    headers[3] = replace(headers[3], sampling_rate=8.0)
    screened = screen(headers)
    assert _left_out(headers) == [3]
    assert "sample rate 8 Hz, its neighbours' 40 Hz" in screened.bad[0].reason


def test_the_first_and_last_records_are_judged_by_the_two_beside_them() -> None:
    headers = _run(6)
    headers[0] = replace(headers[0], sampling_rate=41.0)
    headers[5] = replace(headers[5], encoding=0)
    assert _left_out(headers) == [0, 5]


def test_a_real_change_of_rate_is_kept() -> None:
    first = _run(4)
    second = [replace(h, offset=h.offset + 4 * 512) for h in _run(4, start=first[-1].end + PERIOD, rate=20.0)]
    assert _left_out(first + second) == []


def test_samples_without_a_rate_are_left_out_with_a_span_to_the_next_record() -> None:
    headers = _run(5)
    headers[2] = replace(headers[2], sampling_rate=0.0, end=headers[2].start)
    screened = screen(headers)
    assert _left_out(headers) == [2]
    assert screened.left_out[0].end == headers[3].start - 1
    assert "sample rate of 0" in screened.bad[0].reason


def test_a_record_whose_time_is_off_while_its_neighbours_agree_is_left_out() -> None:
    headers = _run(7)
    shifted = headers[3].start + 450_000_000  # a corrupt time correction of +0.45 s
    headers[3] = replace(headers[3], start=shifted, end=shifted + 399 * PERIOD)
    screened = screen(headers)
    assert _left_out(headers) == [3]
    assert "+0.450000 s" in screened.bad[0].reason


def test_a_record_alone_between_two_real_gaps_is_kept() -> None:
    headers = _run(7)
    for k in (3, 4, 5, 6):  # a gap before record 3 ...
        headers[k] = replace(
            headers[k], start=headers[k].start + 100 * PERIOD, end=headers[k].end + 100 * PERIOD
        )
    for k in (4, 5, 6):  # ... and another after it
        headers[k] = replace(
            headers[k], start=headers[k].start + 50 * PERIOD, end=headers[k].end + 50 * PERIOD
        )
    assert _left_out(headers) == []


def test_interleaved_channels_are_screened_channel_by_channel() -> None:
    a, b = _run(6), _run(6, sid="FDSN:CI_CCA__B_H_E")
    mixed = []
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        mixed += [replace(x, offset=2 * k * 512), replace(y, offset=(2 * k + 1) * 512)]
    assert screen(mixed).left_out == []
    mixed[4] = replace(mixed[4], sampling_rate=44.0)  # a record of the first channel
    assert _left_out(mixed) == [4]


def test_records_without_samples_pass_through() -> None:
    headers = _run(5)
    headers[2] = replace(headers[2], nsamples=0, sampling_rate=0.0, encoding=0, end=headers[2].start)
    assert _left_out(headers) == []
