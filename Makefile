# AutoBuy Guard — every command the README names.
#
#   make local   provision the whole stack on the local cloud (the main job)
#   make test    the whole suite: lint, pytest (slow tests included), molecule
#
# Areas add their own targets in mk/<area>.mk and register them in TEST_TARGETS /
# BENCH_TARGETS, so this file stays the index.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# The oldest Python we support: Debian 12's (scripts/lock.py: SUPPORTED, OLDEST).
MIN_PYTHON := 3.11.2
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
LOCALCLOUD_PORT ?= 4566
LOCALCLOUD_URL := http://127.0.0.1:$(LOCALCLOUD_PORT)
export LOCALCLOUD_PORT
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)

# Filled by mk/*.mk
TEST_TARGETS := lint test-py
BENCH_TARGETS :=

-include mk/*.mk

.PHONY: help setup lock lock-upgrade test-fresh localcloud localcloud-stop local twin-images test test-py test-fast lint collection bench

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## Virtualenv .venv with the pinned dependencies and the app
$(VENV)/.installed: requirements.txt app/pyproject.toml
	scripts/system-deps.sh python
	scripts/require-python.sh $(MIN_PYTHON) $(PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e app
	touch $@

lock: setup ## Resolve requirements.in into requirements.txt for Python $(MIN_PYTHON), keeping pins that install
	$(BIN)/python scripts/lock.py compile
	$(BIN)/python scripts/lock.py check

lock-upgrade: setup ## Like lock, but re-resolve every pin to the newest release that installs
	$(BIN)/python scripts/lock.py compile --upgrade
	$(BIN)/python scripts/lock.py check

# The twin (docs/localcloud.md): `make local` runs it unless LOCALCLOUD_TWIN=off is given;
# `make localcloud` alone keeps the API records only unless LOCALCLOUD_TWIN=on. Container
# instances follow the twin unless LOCALCLOUD_INSTANCES says otherwise. Passed only to the
# server `start` runs, never exported: the test suite's servers choose for themselves.
localcloud: setup ## Start the local cloud on $(LOCALCLOUD_URL) in the background (LOCALCLOUD_TWIN=on: the twin)
	LOCALCLOUD_TWIN=$(LOCALCLOUD_TWIN) \
	LOCALCLOUD_INSTANCES=$(or $(LOCALCLOUD_INSTANCES),$(if $(filter on,$(LOCALCLOUD_TWIN)),containers)) \
	  $(BIN)/python -m localcloud start --port $(LOCALCLOUD_PORT)

localcloud-stop: ## Stop the local cloud
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m localcloud stop --port $(LOCALCLOUD_PORT); fi

local: LOCALCLOUD_TWIN ?= on
# The launch template boots the golden AMI (Docker and the AWS CLI preinstalled) on the twin;
# GOLDEN_AMI=false boots the bare Debian 12 AMI (the user data installs them by apt).
local: GOLDEN_AMI ?= $(if $(filter on,$(LOCALCLOUD_TWIN)),true,false)
# What a deployer does in Stripe's dashboard: a webhook endpoint for the API under the stack's
# public name (the twin delivers it to its load balancer), at the local cloud's Stripe
# stand-in; its signing secret goes to the stack in a 0600 vars file, never printed.
local: STRIPE_WEBHOOK_URL ?= https://api.autobuyguard.store/v1/billing/webhook
local: STRIPE_VARS := $(or $(LOCALCLOUD_STATE_DIR),.localcloud)/stripe-webhook.yml
local: setup twin-images web localcloud ## The main job: the whole stack on the local cloud's twin, serving (LOCALCLOUD_TWIN=off: API records only)
	$(BIN)/python -m autobuy.dev.stripe_webhook --stripe $(LOCALCLOUD_URL)/stripe \
	  --url $(STRIPE_WEBHOOK_URL) --out $(STRIPE_VARS)
	$(BIN)/ansible-playbook site.yml -i inventories/local -e aws_endpoint_url=$(LOCALCLOUD_URL) \
	  -e autobuy_golden_ami=$(GOLDEN_AMI) -e @$(STRIPE_VARS)
	$(BIN)/ansible-playbook playbooks/summary.yml -i inventories/local -e aws_endpoint_url=$(LOCALCLOUD_URL)
	@if [ "$(LOCALCLOUD_TWIN)" = on ]; then scripts/local-twin.sh $(LOCALCLOUD_URL); fi

# The images the twin runs (Debian 12 only: not make images' Debian 13 instance image) and
# the app image it serves, with the twin on only; each rebuilt only when its recipe changed.
twin-images: setup
	@if [ "$(LOCALCLOUD_TWIN)" = on ]; then \
	  scripts/system-deps.sh docker && scripts/base-image.sh bookworm && \
	  images/build.sh instance autobuy/instance:debian12 autobuy/debian:bookworm && \
	  images/build.sh ami autobuy/ami:debian12 autobuy/instance:debian12 && \
	  for recipe in registry mariadb alb testapp; do \
	    images/build.sh $$recipe autobuy/$$recipe:latest autobuy/debian:bookworm || exit 1; done && \
	  $(MAKE) --no-print-directory image; fi

test: $(TEST_TARGETS) ## The whole suite (what CI runs)

test-py: setup ## pytest, slow tests included
	$(BIN)/python -m pytest

test-fresh: ## The README's two commands in a clean Debian 12 container, timed (not part of `make test`)
	scripts/test-fresh.sh bookworm

test-fast: setup ## pytest without the slow tests
	$(BIN)/python -m pytest -m 'not slow'

lint: setup actionlint ## yamllint, ansible-lint (production profile), actionlint, ansible-test sanity (Python 3.11-3.13)
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production
	scripts/sanity.sh

collection: setup ## Build the collection artefact autobuy-guard-VERSION.tar.gz into dist/
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

bench: $(BENCH_TARGETS) ## Every benchmark in bench/
