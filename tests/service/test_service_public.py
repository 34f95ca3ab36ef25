"""Each service module's ``__all__`` is exactly what it defines for others to use."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from seiswindow import aws, bodylimit, encode, http, negotiate, service, webapp
from seiswindow.aws import dispatch, emulator, envelope, events
from seiswindow.aws import fdsn as aws_fdsn


@pytest.mark.parametrize(
    "module",
    [
        encode,
        service,
        aws,
        http,
        webapp,
        bodylimit,
        negotiate,
        events,
        dispatch,
        envelope,
        aws_fdsn,
        emulator,
    ],
)
def test_all_is_the_public_api(module: ModuleType) -> None:
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }
    assert defined <= set(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
