"""The public API is exactly what ``__all__`` says, and it is importable."""

from __future__ import annotations

from pathlib import Path

import pytest

import seiswindow


def test_all_is_the_public_api() -> None:
    public = {name for name in dir(seiswindow) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(seiswindow, name)).__name__ == "module"}
    assert set(seiswindow.__all__) == (public - modules) | {"__version__"}
    for name in seiswindow.__all__:
        assert getattr(seiswindow, name) is not None


def test_the_version_is_the_package_metadata() -> None:
    from importlib import metadata

    assert seiswindow.__version__ == metadata.version("seiswindow")


def test_the_demo_archive_is_built_under_the_root_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(elsewhere))
    archive = seiswindow.open_archive(seiswindow.Settings(archive="demo", demo_root=str(tmp_path / "demo")))
    assert isinstance(archive, seiswindow.Archive) and archive.layout.name == "scedc"
    assert archive.store.list("continuous_waveforms/")
    assert (tmp_path / "demo" / "continuous_waveforms").is_dir()
    assert not elsewhere.exists()
