"""Every format read back by an independent reader: SAC and SAC alpha, tspair and slist by
ObsPy; GeoCSV by the standard library's csv reader; the PNG decoded by Pillow; the WAV by the
standard library's wave. Samples compared with ObsPy's own reading of the window."""

from __future__ import annotations

import csv
import dataclasses
import io
import struct
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest
from obspy import Inventory, Trace, UTCDateTime, read
from PIL import Image

from seiswindow.formats import Format, parse_format
from seiswindow.model import Segment, TraceSpan, WindowResult
from seiswindow.process import parse_chain
from seiswindow.timeseries import Timeseries


def _render(timeseries: Timeseries, results: list[WindowResult], fmt: Format, **options: object):  # type: ignore[no-untyped-def]
    product = timeseries.render(results, fmt, **options)  # type: ignore[arg-type]
    assert product.rendered is not None
    return product.rendered


def _split(result: WindowResult, gap_s: float = 60.0) -> WindowResult:
    """The window with a gap of ``gap_s`` in its middle (two segments)."""
    (seg,) = result.segments
    half = seg.npts // 2
    skip = int(gap_s * seg.sampling_rate)
    second_start = seg.start + round((half + skip) * 1e9 / seg.sampling_rate)
    return dataclasses.replace(
        result,
        segments=(
            Segment(seg.start, seg.sampling_rate, seg.samples[:half]),
            Segment(second_start, seg.sampling_rate, seg.samples[half + skip :]),
        ),
        span=TraceSpan(seg.start, seg.npts, seg.sampling_rate),
    )


@pytest.mark.parametrize(("fmt", "order"), [(Format.SACBL, "<"), (Format.SACBB, ">"), (Format.SAC, "<")])
def test_sac_reads_back_in_obspy_with_the_station_s_header(
    timeseries: Timeseries,
    raw: WindowResult,
    obspy_trace: Trace,
    inventory: Inventory,
    fmt: Format,
    order: str,
) -> None:
    rendered = _render(timeseries, [raw], fmt)
    assert rendered.filename == "CI.CCA..BHN.2022.002.010000.SAC"
    # The byte order asked: DELTA, the first header word, read in it.
    assert struct.unpack(f"{order}f", rendered.body[:4])[0] == pytest.approx(0.025)
    back = read(io.BytesIO(rendered.body), format="SAC")[0]
    assert back.id == obspy_trace.id and back.stats.npts == obspy_trace.stats.npts
    assert abs(back.stats.starttime - obspy_trace.stats.starttime) < 1e-6
    np.testing.assert_array_equal(back.data, obspy_trace.data.astype(np.float32))
    coords = inventory.get_coordinates(obspy_trace.id, obspy_trace.stats.starttime)
    assert back.stats.sac.stla == pytest.approx(coords["latitude"], abs=1e-4)
    assert back.stats.sac.stdp == pytest.approx(coords["local_depth"])


def test_several_segments_are_a_zip_of_sac_files(timeseries: Timeseries, raw: WindowResult) -> None:
    split = _split(raw)
    rendered = _render(timeseries, [split], Format.SAC)
    assert rendered.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(rendered.body)) as archive:
        traces = [read(io.BytesIO(archive.read(n)), format="SAC")[0] for n in archive.namelist()]
    assert [tr.stats.npts for tr in traces] == [s.npts for s in split.segments]
    assert [tr.stats.starttime.ns for tr in traces] == [s.start for s in split.segments]


def test_sac_alpha_reads_back_in_obspy(timeseries: Timeseries, raw: WindowResult, obspy_trace: Trace) -> None:
    # ObsPy 1.5's SACXY reader fails on numpy 2 when the last data line is short (npts not a
    # multiple of 5, which SAC alpha allows): 24000 samples keep to what it reads.
    (seg,) = raw.segments
    result = dataclasses.replace(raw, segments=(Segment(seg.start, seg.sampling_rate, seg.samples[:24000]),))
    rendered = _render(timeseries, [result], Format.SACA)
    back = read(io.BytesIO(rendered.body), format="SACXY")[0]
    np.testing.assert_array_equal(back.data, obspy_trace.data[:24000].astype(np.float32))
    assert back.stats.sac.stla == pytest.approx(35.15252, abs=1e-4)
    # The whole window, read as plain text: 30 header lines, then 5 values a line.
    lines = _render(timeseries, [raw], Format.SACA).body.decode().splitlines()
    values = [float(v) for line in lines[30:] for v in line.split()]
    np.testing.assert_array_equal(values, obspy_trace.data.astype(np.float32))


@pytest.mark.parametrize("name", ["ascii", "tspair", "ascii1", "slist"])
def test_ascii_reads_back_in_obspy(
    timeseries: Timeseries, raw: WindowResult, obspy_trace: Trace, name: str, tmp_path: Path
) -> None:
    fmt = parse_format(name, "format")
    rendered = _render(timeseries, [raw], fmt)
    text = rendered.body.decode()
    first = text.splitlines()[0]
    assert first.startswith("TIMESERIES CI_CCA__BHN_") and f"{obspy_trace.stats.npts} samples" in first
    path = tmp_path / "answer.txt"
    path.write_bytes(rendered.body)
    back = read(str(path), format=fmt.value.upper())[0]  # ObsPy reads these from a file only
    np.testing.assert_array_equal(back.data, obspy_trace.data)
    assert abs(back.stats.starttime - obspy_trace.stats.starttime) < 1e-6


def _geocsv(body: bytes) -> tuple[dict[str, str], list[list[str]]]:
    header: dict[str, str] = {}
    rows: list[list[str]] = []
    for row in csv.reader(io.StringIO(body.decode()), skipinitialspace=True):
        if row and row[0].startswith("#"):
            key, _, value = ",".join(row)[1:].partition(":")
            header[key.strip()] = value.strip()
        elif row:
            rows.append(row)
    return header, rows


def test_geocsv_tspair_parsed_by_a_plain_csv_reader(
    timeseries: Timeseries, raw: WindowResult, obspy_trace: Trace, inventory: Inventory
) -> None:
    header, rows = _geocsv(_render(timeseries, [raw], Format.GEOCSV_TSPAIR).body)
    assert header["dataset"] == "GeoCSV 2.0" and header["SID"] == "FDSN:CI_CCA__B_H_N"
    assert int(header["sample_count"]) == obspy_trace.stats.npts
    assert float(header["sample_rate_hz"]) == obspy_trace.stats.sampling_rate
    assert float(header["latitude_deg"]) == pytest.approx(35.15252)
    sensitivity = inventory.get_response(obspy_trace.id, obspy_trace.stats.starttime).instrument_sensitivity
    assert float(header["scale_factor"]) == pytest.approx(sensitivity.value)
    assert rows[0] == ["Time", "Sample"] and len(rows) - 1 == obspy_trace.stats.npts
    times = [UTCDateTime(r[0]) for r in rows[1:]]
    expected_times = obspy_trace.times("utcdatetime")
    assert max(abs(a - b) for a, b in zip(times, expected_times, strict=True)) < 1e-6
    np.testing.assert_array_equal([int(r[1]) for r in rows[1:]], obspy_trace.data)


def test_geocsv_slist_of_processed_samples_reads_back_exactly(
    timeseries: Timeseries, raw: WindowResult
) -> None:
    chain = parse_chain([("demean", "true"), ("lp", "1")])
    processed = timeseries.process(raw, chain)
    header, rows = _geocsv(_render(timeseries, [processed], Format.GEOCSV_SLIST, chain=chain).body)
    assert header["field_type"] == "float" and header["field_unit"] == "COUNTS"
    assert rows[0] == ["Sample"]
    np.testing.assert_array_equal([float(r[0]) for r in rows[1:]], processed.segments[0].samples)


def test_plot_is_a_png_of_the_stated_size_with_the_gap_blank(
    timeseries: Timeseries, raw: WindowResult
) -> None:
    split = _split(raw, gap_s=200.0)  # 01:05-01:08:20 missing of 01:00-01:10
    rendered = _render(timeseries, [split], Format.PLOT)
    assert rendered.media_type == "image/png" and rendered.body[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(rendered.body))
    assert image.size == (1000, 250)
    dark = np.asarray(image.convert("L")) < 100
    # Inside the axes' frame (the rows and columns that are dark across most of the image),
    # matplotlib's 5% margins either side: a fraction f of the window is at (0.05 + f) / 1.1.
    top, bottom = np.nonzero(dark.sum(axis=1) > 0.5 * dark.shape[1])[0][[0, -1]]
    inside = dark[top + 3 : bottom - 3]
    left, right = np.nonzero(dark[top:bottom].sum(axis=0) > 0.9 * (bottom - top))[0][[0, -1]]
    columns = inside.sum(axis=0)

    def at(fraction: float) -> int:
        return int(left + (0.05 + fraction) / 1.1 * (right - left))

    assert columns[at(0.55) : at(0.8)].max() == 0  # 01:05:30-01:08, in the gap: nothing drawn
    assert columns[at(0.05) : at(0.45)].min() > 0  # 01:00:30-01:04:30: the trace in every column


def test_audio_is_a_wav_the_standard_library_reads(timeseries: Timeseries, raw: WindowResult) -> None:
    rendered = _render(timeseries, [raw], Format.AUDIO, audio_rate=8000)
    with wave.open(io.BytesIO(rendered.body)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = raw.segments[0].samples.astype(np.float64)
    centred = samples - samples.mean()
    assert frames.size == samples.size and np.abs(frames).max() == 32767
    np.testing.assert_allclose(frames, centred / np.abs(centred).max() * 32767, atol=0.5)


def test_processed_miniseed_reads_back_in_obspy(timeseries: Timeseries, raw: WindowResult) -> None:
    chain = parse_chain([("demean", "true"), ("bp", "0.1-1")])
    processed = timeseries.process(raw, chain)
    rendered = _render(timeseries, [processed], Format.MINISEED, chain=chain)
    back = read(io.BytesIO(rendered.body))
    back.merge()
    assert back[0].data.dtype == np.float64
    np.testing.assert_array_equal(back[0].data, processed.segments[0].samples)


def test_no_sample_renders_nothing(timeseries: Timeseries, raw: WindowResult) -> None:
    empty = dataclasses.replace(raw, segments=(), span=None, status="nodata")
    assert timeseries.render([empty], Format.SAC).rendered is None


def test_the_python_api_renders_and_processes(shared_data: Path, obspy_trace: Trace) -> None:
    import seiswindow

    window = "CI.CCA..BHN 2022-01-02T01:00:00 2022-01-02T01:10:00"
    archive = str(shared_data / "scedc-pds")
    rendered = seiswindow.render([window], "sacbb", process="demean", archive=archive)
    assert rendered is not None and rendered.filename.endswith(".SAC")
    back = read(io.BytesIO(rendered.body), format="SAC")[0]
    obspy_trace.data = obspy_trace.data.astype(np.float64)
    obspy_trace.detrend("demean")
    np.testing.assert_allclose(back.data, obspy_trace.data, rtol=0, atol=1e-3)
    (result,) = seiswindow.extract([window], archive=archive, process=["demean"])
    np.testing.assert_allclose(result.segments[0].samples, obspy_trace.data, rtol=0, atol=1e-9)
    with pytest.raises(seiswindow.RequestError) as caught:
        seiswindow.render([window], "json", archive=archive)
    assert caught.value.field == "format"
