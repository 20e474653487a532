# Two commands do all the setup on a fresh machine: `make serve` and `make test`.
# Choose the interpreter with PYTHON=python3.12 and the address with ADDR=127.0.0.1:8001.
PYTHON ?= python3
ADDR ?= 127.0.0.1:8000
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: install tools serve build pdf zensical test lib page claims figures bench chromium clean FORCE

# "3.11", "3.10 (older than 3.11)", or "" when the interpreter does not run.
version = $(shell $(1) -c 'import sys; v = sys.version_info; print("%d.%d%s" % (v[0], v[1], "" if v >= (3, 11) else " (older than 3.11)"))' 2>/dev/null)
PYTHON_VERSION := $(call version,$(PYTHON))
ifneq ($(wildcard $(VENV)),)
VENV_VERSION := $(call version,$(PY))
ifeq ($(VENV_VERSION),)
VENV_STALE := its Python does not run
else ifneq ($(findstring older,$(VENV_VERSION)),)
VENV_STALE := its Python is $(VENV_VERSION)
else ifneq ($(filter command line environment,$(origin PYTHON)),)
ifneq ($(VENV_VERSION),$(PYTHON_VERSION))
VENV_STALE := its Python is $(VENV_VERSION), PYTHON=$(PYTHON) is $(or $(PYTHON_VERSION),not found)
endif
endif
endif
ifneq ($(VENV_STALE),)
$(VENV)/.installed: FORCE
endif

install: $(VENV)/.installed node_modules/.installed

# Every tool the install needs, checked before anything is installed: one line for each missing one.
tools:
	@case "$(PYTHON_VERSION)" in \
	  "") echo "make: $(PYTHON) not found: install Python 3.11 or later, or choose one with PYTHON=python3.12" >&2; exit 1;; \
	  *older*) echo "make: $(PYTHON) is Python $(PYTHON_VERSION): install 3.11 or later, or choose one with PYTHON=python3.12" >&2; exit 1;; \
	esac
	@command -v node >/dev/null 2>&1 || { echo "make: node not found: install Node.js 22.12 or later (24 is the current LTS)" >&2; exit 1; }
	@v=$$(node --version); major=$${v#v}; major=$${major%%.*}; \
	  if [ "$$major" -lt 20 ] 2>/dev/null; then echo "make: node is $$v: install Node.js 22.12 or later (24 is the current LTS)" >&2; exit 1; fi; \
	  if [ "$$major" -lt 22 ] 2>/dev/null; then echo "make: note: node $$v is past its end of life; it works, and npm will warn EBADENGINE for commander (harmless)"; fi
	@command -v npm >/dev/null 2>&1 || { echo "make: npm not found: install npm (it comes with Node.js)" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml constraints.txt | tools
	@if [ -n "$(VENV_STALE)" ]; then echo "make: rebuilding $(VENV) with $(PYTHON) ($(PYTHON_VERSION)): $(VENV_STALE)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[docs,test,data]"
	touch $@

node_modules/.installed: package.json package-lock.json | tools
	npm ci --no-audit --no-fund
	touch $@

# A Chromium for the browser suite: $CHROMIUM if set, else the first of these found on PATH,
# else Debian's `chromium` package where apt has one (Ubuntu's is only a snap stub), else stop.
BROWSERS := chromium chromium-browser google-chrome
chromium:
	@if [ -n "$$CHROMIUM" ]; then \
	  command -v "$$CHROMIUM" >/dev/null 2>&1 || { echo "make: CHROMIUM=$$CHROMIUM is not an executable" >&2; exit 1; }; \
	  echo "browser: $$CHROMIUM (from CHROMIUM)"; exit 0; fi; \
	for b in $(BROWSERS); do \
	  if command -v $$b >/dev/null 2>&1; then echo "browser: $$(command -v $$b)"; exit 0; fi; done; \
	if command -v apt-get >/dev/null 2>&1 && command -v apt-cache >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq >/dev/null; \
	  case "$$(apt-cache policy chromium 2>/dev/null)" in \
	    *"Candidate: (none)"*|"") ;; \
	    *Candidate:*) $(SUDO) apt-get install -y -qq chromium && exit 0;; \
	  esac; \
	fi; \
	echo "make: no Chromium found ($(BROWSERS)) and apt has no chromium package: install Chromium or Google Chrome, or set CHROMIUM=/path/to/it" >&2; exit 1

serve: install
	@$(PY) -c 'import socket, sys; host, port = sys.argv[1].rsplit(":", 1); socket.create_server((host, int(port))).close()' "$(ADDR)" 2>/dev/null \
	  || { echo "make: cannot serve on $(ADDR) (in use or not an address): choose another, e.g. make serve ADDR=127.0.0.1:8001" >&2; exit 1; }
	$(VENV)/bin/mkdocs serve --dev-addr $(ADDR)

# The site, then the whole book as one PDF printed from it by Chromium (src/sitekit/book.py),
# then the site zipped to be read from a folder with file:// (src/sitekit/offline.py):
# site/dismantling-neural-networks.pdf and site/dismantling-neural-networks-site.zip, which the
# home page and the footer link.
build: install chromium
	$(VENV)/bin/mkdocs build --strict
	$(PY) -m sitekit.book site
	$(PY) -m sitekit.offline site

pdf: build

# The same site from Zensical, Material for MkDocs' successor (README: "Two generators"): the
# pre-build step writes KaTeX's files and the notebooks into docs/ (ignored by git), then Zensical
# builds site/ from mkdocs.yml; `make zensical ZENSICAL=serve` serves it on ADDR instead.
ZENSICAL ?= build
zensical: install
	$(PY) -m sitekit.prebuild
	$(VENV)/bin/zensical $(ZENSICAL) $(if $(filter serve,$(ZENSICAL)),--dev-addr $(ADDR),--clean --strict)

# Every core (pytest-xdist; conftest.py keeps tests that share a build on one worker); JOBS=1
# runs in one process. make test runs under one BLAS thread (each worker computes on one core):
# tests/blasruns.py plans the other BLAS settings around that.
JOBS ?= auto
XDIST = -n $(JOBS) --dist loadgroup
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

test: install chromium
	$(ONE_THREAD) $(PY) -m pytest $(XDIST)

# The library alone: unit, property and parity tests and the docstring examples; no site, no pages.
LIB_NOT := tests/browser tests/test_notebooks.py tests/test_blas_portability.py tests/test_site.py \
  tests/test_repository.py tests/test_moved_anchors.py tests/test_workflow.py tests/test_lint.py \
  tests/test_makefile.py tests/test_figures.py tests/test_code_width.py tests/test_fences.py \
  tests/test_claims.py tests/test_lookahead.py tests/test_chapter_links.py tests/test_explorables.py \
  tests/test_doctests.py tests/test_test_pile.py \
  tests/test_zensical.py tests/test_overrides.py tests/test_xdist_groups.py
lib: install
	$(PY) -m pytest $(XDIST) tests src $(addprefix --ignore=,$(LIB_NOT)) --ignore-glob='tests/test_fig_*'

# One page, PAGE=linearity: its doc blocks and claims, its notebook (under the Prescott kernel),
# its figures' tests, and the page guards (fences, code width, look-ahead, claims).
page: install
	@test -n "$(PAGE)" -a -f "docs/$(PAGE).md" || { echo "make: say which page: make page PAGE=linearity (a docs/*.md file)" >&2; exit 1; }
	$(PY) -m pytest $(XDIST) docs/$(PAGE).md $(wildcard tests/test_fig_$(PAGE).py) \
	  "tests/test_notebooks.py::test_notebook_runs_and_prints_what_the_page_shows[$(PAGE).md]" \
	  "tests/test_notebooks.py::test_every_block_of_the_page_is_a_cell_in_order" \
	  tests/test_fences.py tests/test_code_width.py tests/test_lookahead.py tests/test_claims.py

# Every number in the pages' sentences: tied to code, exempt (with its reason) or unchecked.
claims: install
	$(PY) -m sitekit.coverage

figures: install
	$(PY) scripts/figures.py docs/figures
	$(PY) scripts/explorables_data.py docs/assets/explorables/playground.json

bench: install
	$(PY) benchmarks/bench.py

clean:
	rm -rf site artifacts
