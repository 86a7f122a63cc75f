# Set-up and everyday commands. Each target creates or reuses .venv and installs what it needs.
PYTHON ?= python3
# A CPU build of torch; without the pin pip resolves a CUDA build of several GB.
# GPU users: make TORCH=torch demo
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
QUERY ?= what do customers say about exporting data

.PHONY: demo serve test chromium examples bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install when pyproject.toml changes.
$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e ".[test]"
	touch $@ $(VENV)/.installed-runtime

demo: $(VENV)/.installed-runtime
	$(BIN)/heard ingest examples
	$(BIN)/heard search "$(QUERY)"

# The search page on http://127.0.0.1:8765/ over what `make demo` ingested.
serve: $(VENV)/.installed-runtime
	$(BIN)/heard serve

test: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's chromium with Playwright (Playwright's own browser downloads
# are not reachable offline). Installed with apt-get when missing: as root, else with sudo.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Regenerates examples/ from the written scripts in scripts/examples/ (needs the tts extra).
examples: $(VENV)/.installed-test
	$(BIN)/python scripts/make_examples.py

# Measurements that take minutes, never part of `make test`: runs every scripts/bench_*.py in turn
# and prints their tables (copied into docs/benchmarks.md by hand). Needs PyPI for the pyannote sample.
bench: $(VENV)/.installed-test
	@for script in scripts/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf index transcripts/*.json transcripts/*.md
