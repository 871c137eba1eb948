# Developer entry points. `make run` serves the API locally; `make test` is
# what CI runs (.ci/run). Tools live in .venv (infra/scripts/bootstrap.sh);
# local state (emulator pid/log, demo credentials) lives in .local.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# The emulator `make run` uses, and a separate one for tests so that running
# the test suite never disturbs a running `make run`.
DYNAMODB_PORT ?= 8000
TEST_DYNAMODB_PORT ?= 8001

scripts := infra/scripts

.PHONY: help run loadtest contract bench test browser-test screenshots emulator-start emulator-stop seed fmt clippy lint build deploy clean-local

help: ## List the targets
	@echo 'usage: make TARGET'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-16s %s\n", $$1, $$2 }'

run: ## Serve the whole API on :9000 (cargo lambda watch) against a seeded local DynamoDB
	@DYNAMODB_PORT=$(DYNAMODB_PORT) $(scripts)/run.sh

loadtest: ## Load through its own `make run` stack (:9002, DynamoDB :8002) with wrk, then count the records
	@$(scripts)/loadtest.sh

contract: ## Schemathesis against its own `make run` stack (:9006, DynamoDB :8006): the API must answer as openapi.yaml says
	@$(scripts)/contract.sh

bench: ## All performance figures (init, RSS, DynamoDB calls, instructions, listing, sizes) → target/bench/results.json (own DynamoDB :8003)
	@$(scripts)/bench.sh

test: ## What CI runs: fmt check, clippy, cfn-lint, all tests against a test emulator, the browser test, `make contract`, `make loadtest`
	@$(scripts)/bootstrap.sh --test
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@$(scripts)/lint.sh --cfn-lint
	@export DYNAMODB_PORT=$(TEST_DYNAMODB_PORT); \
	trap '$(scripts)/emulator.sh stop' EXIT; \
	$(scripts)/emulator.sh start; \
	$(scripts)/emulator.sh reset; \
	. $(scripts)/local-env.sh; \
	echo 'cargo test --doc --workspace   (nextest does not run doc tests)'; \
	cargo test --doc --workspace; \
	echo "cargo nextest run --workspace   (DynamoDB at $$AWS_ENDPOINT_URL_DYNAMODB)"; \
	cargo nextest run --workspace
	@$(scripts)/browser-test.sh
	@$(scripts)/contract.sh
	@$(scripts)/loadtest.sh

browser-test: ## The dashboard's journeys in headless Chromium, against their own `make run` stack (:9004, emulator :8004)
	@$(scripts)/browser-test.sh

# The README's pictures, from the last browser test's screenshots (the test
# itself writes only under target/, so `make test` leaves the tree clean).
shots := target/browser-test/screenshots
screenshots: ## Copy the browser test's screenshots of the README's pages into docs/ (after make browser-test)
	@for pair in access-tokens-limited:access-tokens project:dashboard-project members:dashboard-team activity:dashboard-activity; do \
	  from="$(shots)/$${pair%%:*}.png"; to="docs/$${pair##*:}.png"; \
	  [[ -f "$$from" ]] || { echo "no $$from: run make browser-test first" >&2; exit 1; }; \
	  cp "$$from" "$$to" && echo "$$to"; \
	done

emulator-start: ## Start the local DynamoDB emulator (DYNAMODB_PORT, default 8000)
	@$(scripts)/bootstrap.sh
	@DYNAMODB_PORT=$(DYNAMODB_PORT) $(scripts)/emulator.sh start

emulator-stop: ## Stop the local DynamoDB emulator
	@DYNAMODB_PORT=$(DYNAMODB_PORT) $(scripts)/emulator.sh stop

seed: ## Seed demo data into the running emulator, write .local/demo.env (FRESH=1 to re-seed)
	@$(scripts)/bootstrap.sh
	@DYNAMODB_PORT=$(DYNAMODB_PORT) $(scripts)/emulator.sh start
	cargo build --bin aau-admin
	@DYNAMODB_PORT=$(DYNAMODB_PORT) $(scripts)/seed.sh $(if $(FRESH),--fresh)

fmt: ## Format all Rust code
	cargo fmt --all

clippy: ## Lint all Rust code, warnings are errors
	cargo clippy --workspace --all-targets -- -D warnings

lint: ## Lint the SAM/CloudFormation templates: cfn-lint and sam validate --lint (offline)
	@$(scripts)/lint.sh

build: ## Release builds for Lambda arm64: target/lambda/{check,versions,tokens}/bootstrap
	@$(scripts)/build.sh

deploy: ## Build and deploy with AWS SAM (--guided the first time), see docs/deploy.md
	@$(scripts)/deploy.sh

clean-local: ## Stop local emulators and delete .local (demo credentials, logs)
	@for pid_file in .local/moto-*.pid; do \
	  [[ -e "$$pid_file" ]] || continue; \
	  port="$${pid_file#.local/moto-}"; \
	  DYNAMODB_PORT="$${port%.pid}" $(scripts)/emulator.sh stop; \
	done
	rm -rf .local
