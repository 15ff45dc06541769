# Ledger: `make run` starts everything, `make test` checks everything. See README.md.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# mypy and ruff read settings but never connect: placeholder URLs keep them independent of running services.
STATIC_ENV := DATABASE_URL=postgresql://localhost/ledger REDIS_URL=redis://localhost:6379/0

.PHONY: install run test pytest lint fmt typecheck check bench bench-smoke bench-append clean stress

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Ledger needs python3 >= 3.11")'
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@# Dependencies straight from pyproject.toml: nothing to build, no egg-info left in the tree.
	$(PY) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	print('\n'.join(p['dependencies'] + p['optional-dependencies']['dev']))" > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $@

run: install
	$(PY) -m config.launcher run

test: lint typecheck pytest

pytest: install
	$(PY) -m config.launcher test -- $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

typecheck: install
	$(STATIC_ENV) $(PY) -m mypy .

check: test

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache staticfiles

bench: install
	$(PY) -m config.launcher test -- $(PY) -m bench.suite --docs docs/benchmarks.md $(BENCH_ARGS)

bench-smoke: install
	$(PY) -m config.launcher test -- $(PY) -m bench.suite --smoke $(BENCH_ARGS)

bench-append: install
	$(PY) -m config.launcher test -- $(PY) -m bench.append_throughput $(BENCH_ARGS)

stress: install
	$(PY) -m tests.stress $(STRESS_ARGS)
