"""Benchmarks of seiswindow side by side with the SCEDC tutorial's pipeline.

Run from the repository root with ``make bench`` or ``python -m benchmarks`` (``--help``
for options). Both systems read the same moto S3 server on 127.0.0.1 through one
counting, shaping proxy; each runs each case in a process of its own. The report is
printed and written to ``benchmarks/RESULTS.md``.

Modules: :mod:`~benchmarks.tutorial` (the baseline), :mod:`~benchmarks.s3data` (the S3
server and generated files), :mod:`~benchmarks.cases`, :mod:`~benchmarks.child` (one
system in one process), :mod:`~benchmarks.measure` (the parent's side),
:mod:`~benchmarks.micro` (JSON encoding), :mod:`~benchmarks.report`, :mod:`~benchmarks.run`.

Nothing here is imported at package import: ``benchmarks.child`` measures cold starts.
"""
