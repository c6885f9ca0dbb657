# The two set-up commands of the README are `make demo` and `make test`; both install what they
# need (infra/bootstrap.sh) and are quick when everything is already there.
export OMP_THREAD_LIMIT := 1
export PATH := $(HOME)/.local/bin:$(PATH)
PY := .venv/bin/python

.PHONY: demo test test-fast lint bootstrap-demo bootstrap-test serve bench

bootstrap-demo:
	@infra/bootstrap.sh demo

bootstrap-test:
	@infra/bootstrap.sh test

## Run the main job on the embedded defaults: demo post for three clients, end to end.
demo: bootstrap-demo
	.venv/bin/backoffice demo

## Everything CI runs: lint, types, the whole test suite with real services.
test: bootstrap-test lint
	$(PY) -m pytest -q -p no:cacheprovider --timeout=900

## Unit tests without services, OCR or Prefect: seconds.
test-fast:
	$(PY) -m pytest -q -m "not services and not ocr and not flow and not slow"

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench:
	$(PY) bench/bench_ocr.py
	$(PY) bench/bench_intake.py
	$(PY) bench/bench_datev.py
	$(PY) bench/bench_firstpage.py

## The portal on the embedded defaults (after `make demo`): http://127.0.0.1:8000/
serve: bootstrap-demo
	.venv/bin/backoffice serve
