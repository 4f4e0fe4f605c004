# The two entry points: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv

.PHONY: demo test bench clean

$(VENV)/.installed-dev: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed-dev
	scripts/demo.sh

test: $(VENV)/.installed-dev
	scripts/test.sh

# Benchmarks (minutes; not part of `make test`): every figure as a ratio against a raw-driver
# baseline, on SQLite and on a private PostgreSQL with default (durable) settings.
bench: $(VENV)/.installed-dev
	PY=$(VENV)/bin/python bench/run_all.sh

clean:
	rm -rf $(VENV) demo .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
