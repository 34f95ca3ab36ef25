"""Bulk jobs (issue 12): thousands of windows, resumable, on one machine or a cluster.

The parts, each a module:

- ``inputs``: the windows of a job from the tutorial's JSON, FDSN POST text, a CSV of
  windows or a pick list, each with a stable id;
- ``manifest``: the append-only record of each window's status, what makes a job resume;
- ``outputs``: the output-writer protocol and the miniSEED and npz writers;
- ``sinks``: where their files go, whole: a local directory or an S3 prefix;
- ``executors``: the executor protocol, batches by day file, the local executor;
  ``dask``: the Dask ``distributed`` executor (imported on demand: an optional dependency);
  ``awslambda``: the Lambda executor, invocations of the deployed function (imported on
  demand), whose JSON answers ``answers`` reads back into results;
- ``seisbench``: :class:`~seiswindow.bulk.seisbench.SeisBenchWriter`, windows as a SeisBench
  data set (metadata.csv + waveforms.hdf5; needs the ``seisbench`` extra, h5py);
  ``seisbenchout``: :class:`~seiswindow.bulk.seisbenchout.SeisBenchOutput`, the output writer
  of ``--format seisbench`` (one example per station of each input row, written whole);
- ``job``: :func:`run_job`, which ties them together.

The command line's ``seiswindow bulk INPUT --out DIR`` is the front end.
"""

from __future__ import annotations

from .executors import Batch, Executor, LocalExecutor, batches
from .inputs import InputKind, JobWindow, Pick, Row, read_input, resolve, window_id
from .job import Summary, run_job
from .manifest import MANIFEST_NAME, Entry, Manifest
from .outputs import MseedWriter, NpzWriter, OutputWriter, Written, output_name
from .sinks import DirectorySink, S3Sink, Sink, write_whole

__all__ = [
    "MANIFEST_NAME",
    "Batch",
    "DirectorySink",
    "Entry",
    "Executor",
    "InputKind",
    "JobWindow",
    "LocalExecutor",
    "Manifest",
    "MseedWriter",
    "NpzWriter",
    "OutputWriter",
    "Pick",
    "Row",
    "S3Sink",
    "Sink",
    "Summary",
    "Written",
    "batches",
    "output_name",
    "read_input",
    "resolve",
    "run_job",
    "window_id",
    "write_whole",
]
