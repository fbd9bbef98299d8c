# One entry point for everything a contributor or CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
PY         := $(VENV)/bin/python
# uv from PATH when present; otherwise installed into the venv on first use.
UV         := $(or $(shell command -v uv 2>/dev/null),$(VENV)/bin/uv)
PY_STAMP   := $(VENV)/.deps-installed
NODE_STAMP := node_modules/.deps-installed
# checkov pins an older boto3 than the project, so it gets a venv of its own.
CHECKOV_VENV  := $(VENV)/tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.deps-installed
CHECKOV_REQS  := tests/hardening/requirements-checkov.txt
CDK        := node_modules/.bin/cdk
# pyproject.toml: requirements-dev.txt installs the client from it (the agentcore-async script).
REQS       := requirements.txt requirements-dev.txt agent/requirements.txt pyproject.toml

# Nothing phones home: no CDK notices, no CLI telemetry, no jsii Node-version banners (app.py
# sets the same for `npx cdk`; the README says which Node.js releases are supported).
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_KNOWN_BROKEN_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 18,20
# Every Python process the tests start (agents, moto, emulators) reads compiled bytecode: the venv is
# compiled at install and the checkout's own caches are written (they are git-ignored).
unexport PYTHONDONTWRITEBYTECODE

# Variables; set them on the command line: make synth STAGE=prod LIFECYCLE=long-running
#: STAGE      dev, staging or prod (synth, local, smoke; synth's default: dev)
STAGE     ?=
#: LIFECYCLE  interactive, long-running or development (synth, local; default: the stage's preset)
LIFECYCLE ?=
#: SEED       the nemesis's fault-schedule seed (default: a random one, printed at start)
SEED      ?=
#: SECONDS    seconds of faults in a nemesis run (default 60)
SECONDS   ?= 60
#: STORE      the nemesis's store: sqlite, dynamodb or redis (default sqlite)
STORE     ?= sqlite
CDK_CONTEXT := $(if $(STAGE),-c stage=$(STAGE)) $(if $(LIFECYCLE),-c lifecycle=$(LIFECYCLE))
# make local with STAGE or LIFECYCLE: that stage's timers, read from its synthesized template.
LOCAL_STAGE  := $(if $(STAGE)$(LIFECYCLE),$(or $(STAGE),dev))
LOCAL_TIMERS := $(if $(LOCAL_STAGE),--from-cdk-out cdk.out --stage $(LOCAL_STAGE))

.PHONY: help bootstrap synth test test-fast snapshot-update lint local demo smoke bench nemesis clean services

help: ## List the targets and the variables they read
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo "Variables (make TARGET NAME=value):"
	@sed -n 's/^#: /  /p' $(MAKEFILE_LIST)

$(PY_STAMP): $(REQS)
	@test -x $(PY) || python3 -m venv $(VENV)
	@test -x $(UV) || { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null; \
	  $(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8; }
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-dev.txt
	@touch $@

$(CHECKOV_STAMP): $(CHECKOV_REQS) | $(PY_STAMP)
	@test -x $(CHECKOV_VENV)/bin/python || $(UV) venv --quiet --python $(PY) $(CHECKOV_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python -r $(CHECKOV_REQS)
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

services: ## Install the local servers the tests start (redis-server) when missing
	@command -v redis-server >/dev/null || { \
	  echo "redis-server missing: installing it with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

bootstrap: $(PY_STAMP) $(NODE_STAMP) $(CHECKOV_STAMP) ## Create .venv and node_modules with the pinned tools

# Each target needs only the tools it runs: synth no checkov, lint and local no Node.js.
synth: $(PY_STAMP) $(NODE_STAMP) ## Synthesize one stage's stacks into a fresh cdk.out/ (STAGE, LIFECYCLE)
	rm -rf cdk.out
	$(CDK) synth --quiet $(CDK_CONTEXT)
	@echo "cdk.out/ holds:"; $(CDK) list --app cdk.out

# Four xdist workers on two cores: the suite mostly waits on the processes it starts (measured:
# 4 min 19 s with three, 3 min 57 s with four, no gain with five, where the cores are the limit).
TEST_WORKERS ?= 4

test: bootstrap services ## Run the whole test suite (starts the servers it needs)
	$(PY) -m bench.timed bench/.work/test-wall-time.json -- $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

test-fast: $(PY_STAMP) ## The in-process unit tier: no servers, no subprocesses (seconds)
	$(PY) -m pytest -m unit -q

snapshot-update: $(PY_STAMP) ## Refresh the CloudFormation snapshots after an intended change
	$(PY) -m pytest tests/infra --snapshot-update

lint: $(PY_STAMP) ## ruff and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy agentcore_async stacks agent emulator bench nemesis

local: $(PY_STAMP) $(if $(LOCAL_STAGE),$(NODE_STAMP)) ## The emulator on http://127.0.0.1:8090 (STAGE/LIFECYCLE: that stage's timers)
	$(if $(LOCAL_STAGE),rm -rf cdk.out && $(CDK) synth --quiet $(CDK_CONTEXT) >/dev/null)
	$(PY) -m emulator --store-dir .local $(LOCAL_TIMERS)

demo: $(PY_STAMP) ## Run the seed's timeline end to end with fast timers
	$(PY) -m emulator.demo

# The target is read like every client command: AGENTCORE_* variables, else cdk-outputs.json.
smoke: $(PY_STAMP) ## After a deploy: start, wait, list, cancel and isolation checks (STAGE=dev)
	$(VENV)/bin/agentcore-async smoke $(if $(STAGE),--stage $(STAGE))

bench: $(PY_STAMP) $(NODE_STAMP) services ## Benchmarks against the seed's approach; writes bench/RESULTS.md
	$(PY) -m bench

nemesis: $(PY_STAMP) $(if $(filter redis,$(STORE)),services) ## Random faults, then check the history (SEED, SECONDS, STORE)
	$(PY) -m nemesis $(if $(SEED),--seed $(SEED)) --seconds $(SECONDS) --store $(STORE)

clean: ## Remove generated files (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .local
