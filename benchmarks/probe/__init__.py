"""An adversarial probe of the running service, on loopback: ``make probe``.

It re-measures the figures of issue 16 ("Never wrong, never down") on the current code:
schemathesis on the OpenAPI, load at 50 and 200 clients, RSS over rounds of the same
load, and a pathological FDSN pattern timed beside ``/health``. The service is
``seiswindow serve`` in its own process on moto S3 loaded with ``../shared/data``; see
`benchmarks.probe.run`. It needs the ``probe`` dependency group (schemathesis).
"""

from __future__ import annotations

__all__: list[str] = []
