# redis-infra: every target creates .venv and installs what it needs on first use.
# Quickstart: `make sandbox` (the dev stack as real local Redis, verified, torn down) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STACK  ?= dev

.PHONY: deps venv redis sandbox sandbox-down test validate docs schema check up preview bench clean
.DEFAULT_GOAL := help

help:
	@echo "make sandbox [STACK=dev|file.yaml] [KEEP=1] [DRILL=1] [JSON=1]   local Redis from a stack file, verified"
	@echo "make sandbox-down                                                 stop a KEEP=1 sandbox"
	@echo "make test                                                         all tests (real Redis, mocks, policies)"
	@echo "make validate [STACK=dev]                                         validate a stack file"
	@echo "make up STACK=dev [YES=1] [JSON=1]                                pulumi up, then the post-deploy checks"
	@echo "make docs                                                         regenerate README config table and schema"

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

redis:
	@scripts/ensure-redis.sh

deps: venv redis

sandbox: deps
	@$(PY) -m redisinfra.cli sandbox $(STACK) $(if $(KEEP),--keep) $(if $(DRILL),--drill failover) $(if $(JSON),--json)

sandbox-down: venv
	@$(PY) -m redisinfra.cli sandbox-down

validate: venv
	@$(PY) -m redisinfra.cli validate $(STACK)

test: deps
	$(PY) -m pytest -q -p no:cacheprovider tests

docs: venv
	$(PY) -m redisinfra.connection > schema/connection.schema.json
	$(PY) -m redisinfra.docs README.md

# Post-deploy checks (docs/checks.md): STACK=<name> reads `pulumi stack output`; OUTPUTS=file.json (or - for stdin).
check: venv
	@$(PY) -m checks $(if $(OUTPUTS),--outputs $(OUTPUTS),--stack $(STACK)) $(if $(DRILL),--drill failover) $(if $(JSON),--json)

bench-checks: deps
	$(PY) benchmarks/checks.py

# Deploy with the Pulumi CLI, then the post-deploy checks (docs/docker.md); one-line error without the CLI or Docker.
up: deps
	@$(PY) -m redisinfra.up $(STACK) $(if $(YES),--yes) $(if $(JSON),--json)

bench: deps
	$(PY) benchmarks/bringup.py

# Offline gate: the program under mocks + the policy pack over gRPC (no Pulumi CLI, no credentials). JSON=1 for JSON.
preview: venv
	@$(PY) -m redisinfra.preview $(STACK) $(if $(JSON),--json)

.PHONY: bench-preview
bench-preview: venv
	@$(PY) benchmarks/preview.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .sandbox
