# araclaim: two commands do all set-up on a fresh machine.
#   make demo   train the offline default, score it on the gold article, label a sample article
#   make test   the whole test suite
# Both create .venv on first use and are fast when nothing changed.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARACLAIM := $(BIN)/araclaim
STAMP := $(VENV)/.installed
# torch first, pinned to a CPU build where one is on disk (this workplace keeps 2.13.0+cpu); on a
# CPU-only machine elsewhere add your CPU wheel index: make TORCH_PIP_ARGS="--index-url URL" demo
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither" || true; }
DEMO_CONFIG ?= baseline
DEMO := outputs/demo
SAMPLE := data/article.txt

SPARK_STAMP := $(VENV)/.spark-installed

.PHONY: demo test ui install clean bench
install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)" $(PIP_QUIET)
	$(BIN)/pip install -q -e '.[dev]' $(PIP_QUIET)
	touch $@

# The demo is a chain of files, so a second `make demo` with nothing changed only prints the summary.
$(DEMO)/run_id: $(STAMP) configs/*.yaml data/*.jsonl data/gold/*.jsonl train/*.py
	@mkdir -p $(DEMO)
	$(ARACLAIM) data check data/
	$(ARACLAIM) train --config configs/$(DEMO_CONFIG).yaml > $@.tmp
	mv $@.tmp $@

$(DEMO)/eval/gold_article.json: $(DEMO)/run_id eval/*.py
	$(ARACLAIM) eval --model $$(cat $<) --name $(DEMO_CONFIG) --out $(DEMO)/eval

$(DEMO)/labelled.jsonl: $(DEMO)/run_id $(SAMPLE) eval/*.py
	$(ARACLAIM) label --model $$(cat $<) $(SAMPLE) -o $@

demo: $(DEMO)/eval/gold_article.json $(DEMO)/labelled.jsonl
	@$(BIN)/python scripts/demo_summary.py $(DEMO)

# pyspark (about 450 MB, under a minute) lets the suite run the logged model as a Spark UDF.
$(SPARK_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,spark]' $(PIP_QUIET)
	touch $@

test: $(STAMP) $(SPARK_STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python scripts/bench_label.py
	$(BIN)/python scripts/bench_train.py

ui: $(STAMP)
	$(ARACLAIM) ui

clean:
	rm -rf outputs .pytest_cache
