"""The FDSN services as the service application mounts them (``seiswindow.http.create_app``),
on the generated offline demo archive (a gap in BHZ), with ObsPy's client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from obspy import Stream, UTCDateTime, read
from obspy.clients.fdsn import Client

from seiswindow.archive import layout_named
from seiswindow.config import Archive, Settings
from seiswindow.demo import build_demo_archive
from seiswindow.extract import Extractor
from seiswindow.http import create_app
from seiswindow.store import LocalStore


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("demo")
    build_demo_archive(root)
    extractor = Extractor(Archive(LocalStore(root), layout_named("scedc")))
    app = create_app(Settings(archive=str(root)), extractor=extractor)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn demo", daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", root
    finally:
        server.should_exit = True
        thread.join(10)
        extractor.close()


def test_mounted_services_with_a_gap(demo: tuple[str, Path]) -> None:
    url, root = demo
    client = Client(url)
    assert {"dataselect", "station"} <= set(client.services)
    inventory = client.get_stations(network="SY", level="channel")
    files = sorted(root.rglob("*BHZ*.ms"))
    assert files
    disk = read(str(files[0]))
    assert len(disk) >= 2  # the demo's gap
    assert "SY.DEMO..BHZ" in inventory.get_contents()["channels"]
    t0, t1 = disk[0].stats.starttime + 60, disk[-1].stats.endtime - 60
    reference = disk.copy().trim(t0, t1)
    assert len(reference) == 2
    ours = client.get_waveforms("SY", "DEMO", "", "BHZ", t0, t1)
    assert [(tr.stats.starttime, tr.stats.npts) for tr in ours] == [
        (tr.stats.starttime, tr.stats.npts) for tr in reference
    ]
    longest = max(reference, key=lambda tr: tr.stats.npts)
    only = client.get_waveforms("SY", "DEMO", "", "BHZ", t0, t1, longestonly=True)
    assert isinstance(only, Stream) and len(only) == 1
    assert only[0].stats.starttime == longest.stats.starttime
    assert (only[0].data == longest.data).all()


def test_unknown_fdsn_resource_is_404(demo: tuple[str, Path]) -> None:
    import urllib.error
    import urllib.request

    url, _ = demo
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{url}/fdsnws/event/1/application.wadl")
    assert caught.value.code == 404
    t = UTCDateTime("2024-01-01T10:00:00")
    assert len(Client(url).get_waveforms("SY", "DEMO", "--", "LHZ", t, t + 10)) == 1
