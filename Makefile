# Two commands on a fresh machine: `make serve` and `make test`.
# Everything installs into ./.venv from the lock file (uv.lock) with uv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 9000
# The service's archive: the offline demo by default (works with no network or AWS account);
# ARCHIVE=s3://scedc-pds serves the public SCEDC bucket, anonymously.
ARCHIVE ?= demo
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: install install-dev serve demo test lint bench clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed-runtime: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --no-dev
	touch $@

$(VENV)/.installed-dev: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --all-extras
	touch $@

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

## serve: the service on $(HOST):$(PORT), on $(ARCHIVE) (demo: generated offline archive)
serve: install
	$(BIN)/seiswindow serve --host $(HOST) --port $(PORT) --archive $(ARCHIVE)

## demo: the service on the offline demo archive (no network, no AWS)
demo: install
	$(BIN)/seiswindow serve --host $(HOST) --port $(PORT) --archive demo

## test: install and run the whole test suite
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
