# Two commands do all the setup on a fresh machine: `make serve` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: install serve build test figures bench chromium clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[docs,test,data]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

serve: install
	$(VENV)/bin/mkdocs serve

build: install
	$(VENV)/bin/mkdocs build --strict

test: install chromium
	$(PY) -m pytest

figures: install
	$(PY) scripts/figures.py docs/figures

bench: install
	$(PY) benchmarks/bench.py

clean:
	rm -rf site artifacts
