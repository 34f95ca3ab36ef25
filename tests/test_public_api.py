"""The public API is exactly what ``__all__`` says, and it is importable."""

from __future__ import annotations

import seiswindow


def test_all_is_the_public_api() -> None:
    public = {name for name in dir(seiswindow) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(seiswindow, name)).__name__ == "module"}
    assert set(seiswindow.__all__) == (public - modules) | {"__version__"}
    for name in seiswindow.__all__:
        assert getattr(seiswindow, name) is not None
