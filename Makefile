# Two commands on a fresh machine: `make serve` and `make test`.
# Everything installs into ./.venv from the lock file (uv.lock) with uv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 9000
# The service's archive: $SEISWINDOW_ARCHIVE when set, else the offline demo (works with no
# network or AWS account); ARCHIVE=s3://scedc-pds serves the public SCEDC bucket, anonymously.
ARCHIVE ?= $(or $(SEISWINDOW_ARCHIVE),demo)
# A station table (FDSN station text) listing stations that have day files but no StationXML
# (docs/fdsn.md, "Stations without StationXML"); empty: $SEISWINDOW_STATIONS, or none.
STATIONS ?=
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: install install-dev install-pyrocko install-seisbench serve demo test lint bench clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed-runtime: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --no-dev
	touch $@

$(VENV)/.installed-dev: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --all-extras
	touch $@

# Pyrocko's FDSN client for tests/fdsn/test_fdsn_pyrocko.py, in an environment of its own: its
# Python 3.11 wheels need numpy<2 (pyproject.toml's `pyrocko` group conflicts with `dev`).
PYROCKO_VENV := .venv-pyrocko
$(PYROCKO_VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(abspath $(PYROCKO_VENV)) $(UV) sync --frozen --only-group pyrocko --python $(BIN)/python
	touch $@

# SeisBench, the oracle of tests/bulk/test_seisbench.py, in an environment of its own: it needs
# torch, which uv would fetch as a 3 GB CUDA build; pip takes the CPU wheel in its find-links.
# Pinned in requirements/seisbench.txt. About 1m45s and 1.4 GB from a warm pip cache.
SEISBENCH_VENV := .venv-seisbench
$(SEISBENCH_VENV)/.installed: requirements/seisbench.txt
	$(PYTHON) -m venv $(SEISBENCH_VENV)
	$(SEISBENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/seisbench.txt
	touch $@

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev
install-pyrocko: $(PYROCKO_VENV)/.installed
install-seisbench: $(SEISBENCH_VENV)/.installed

## serve: the service on $(HOST):$(PORT), on $(ARCHIVE) (demo: generated offline archive)
serve: install
	$(BIN)/seiswindow serve --host $(HOST) --port $(PORT) --archive $(ARCHIVE) $(if $(STATIONS),--stations $(STATIONS))

## demo: the service on the offline demo archive (no network, no AWS)
demo: install
	$(BIN)/seiswindow serve --host $(HOST) --port $(PORT) --archive demo

## test: install and run the whole test suite
test: install-dev install-pyrocko
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.bulk $(BULK_ARGS)
	$(BIN)/python -m benchmarks.indexread --reps 7 --out benchmarks/INDEXREAD.md

## bench-process: processed windows vs ObsPy on the tutorial's pipeline, import costs (docs/formats.md)
.PHONY: bench-process
bench-process: install-dev
	$(BIN)/python -m benchmarks.process

## probe: issue 16's probe of the running service on 127.0.0.1 (schemathesis, load at 50 and 200
## clients, RSS over rounds, a pathological FDSN pattern); writes its section of benchmarks/PROBE.md
.PHONY: probe
probe: install-dev
	$(UV) sync --frozen --inexact --all-extras --group probe
	timeout --kill-after=10 600 $(BIN)/python -m benchmarks.probe $(PROBE_ARGS)

clean:
	rm -rf $(VENV) $(PYROCKO_VENV) $(SEISBENCH_VENV) .pytest_cache .mypy_cache .ruff_cache

# --- Deploy to AWS: deploy/aws (Dockerfile, SAM template), docs/deploy.md ----------------
# image, deploy and invoke-local need Docker (and sam, AWS credentials); requirements and
# lint-deploy run anywhere. ARCH is Lambda's name: x86_64 or arm64 (Graviton).
AWS_DIR  := deploy/aws
ARCH     ?= x86_64
IMAGE    ?= seiswindow-lambda
DOCKER   ?= docker
SAM      ?= sam
EVENT    ?= http-api-timewindows.json
PARAMS   ?=
DOCKER_PLATFORM = $(if $(filter arm64 aarch64,$(ARCH)),linux/arm64,linux/amd64)
SAM_ARCH        = $(if $(filter arm64 aarch64,$(ARCH)),arm64,x86_64)

.PHONY: requirements lambda-wheel image deploy invoke-local lint-deploy

## requirements: re-export deploy/aws/requirements.txt from uv.lock (runtime deps, hashed)
requirements: $(UV)
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt > $(AWS_DIR)/requirements.txt.tmp
	mv $(AWS_DIR)/requirements.txt.tmp $(AWS_DIR)/requirements.txt

## lambda-wheel: the project's wheel in deploy/aws/dist, the image's build context
lambda-wheel: $(UV)
	rm -rf $(AWS_DIR)/dist
	$(UV) build --wheel --out-dir $(AWS_DIR)/dist

## image: the Lambda image for ARCH, loaded into Docker as $(IMAGE):$(ARCH)
# One platform and no attestations: Lambda refuses image indexes (multi-arch manifests).
image: lambda-wheel
	$(DOCKER) buildx build --platform $(DOCKER_PLATFORM) --provenance=false --sbom=false \
		--load -t $(IMAGE):$(SAM_ARCH) $(AWS_DIR)

## deploy: sam build + sam deploy (guided the first time, then from deploy/aws/samconfig.toml)
deploy: lambda-wheel
	cd $(AWS_DIR) && $(SAM) build --parameter-overrides Architecture=$(SAM_ARCH)
	cd $(AWS_DIR) && if [ -f samconfig.toml ]; then \
		$(SAM) deploy --parameter-overrides Architecture=$(SAM_ARCH) $(PARAMS); \
	else \
		$(SAM) deploy --guided --parameter-overrides Architecture=$(SAM_ARCH) $(PARAMS); \
	fi

## invoke-local: sam local invoke of the built image with deploy/aws/events/$(EVENT)
invoke-local: lambda-wheel
	cd $(AWS_DIR) && $(SAM) build --parameter-overrides Architecture=$(SAM_ARCH)
	cd $(AWS_DIR) && $(SAM) local invoke Function --event events/$(EVENT) \
		--parameter-overrides Architecture=$(SAM_ARCH) $(PARAMS)

## lint-deploy: cfn-lint on the template; every runtime wheel resolves for Lambda x86_64 and aarch64
# The wheel check downloads from PyPI (about 38 MB per architecture, once: pip caches it).
lint-deploy: install-dev
	$(BIN)/ruff check $(AWS_DIR)
	$(BIN)/cfn-lint $(AWS_DIR)/template.yaml
	$(BIN)/python $(AWS_DIR)/lambda_wheels.py download $(if $(LAMBDA_PYTHON),--python $(LAMBDA_PYTHON))
