"""IRIS's ``irisws-timeseries`` 1 on the archive: ``/irisws/timeseries/1/query`` with its
parameter names (:mod:`.request`, parsing with no I/O) and its FastAPI router
(:mod:`.routes`, a front end)."""
