# Every target runs on the Node.js 24 that `npm ci` installs into node_modules/.bin, whatever the machine has.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: all install build test test-unit test-integration lint format run env-build bench clean

all: lint build test

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	npm run build

## Every test: builds (or reuses) the local control plane and stores, then runs unit and integration tests.
test: install env-build
	npm test

test-unit: install
	npx vitest run --project unit

test-integration: install env-build
	npx vitest run --project integration

lint: install
	npm run lint

format: install
	npm run format

## Build or verify the binaries of the test environment (cached under $$HOME/.cache/secretlink).
env-build: install
	node test/env/cli.ts build

## The demo: the operator on a local control plane and stores on loopback, with a dbt CronJob using a
## SecretReference; kept up until Ctrl-C. `node test/env/cli.ts up` starts the environment alone.
run: install env-build
	node test/env/cli.ts demo

## Benchmarks (several minutes): each starts its own environment and rewrites its section of docs/benchmarks.md.
bench: install env-build
	node bench/environment.ts --write=docs/benchmarks.md
	node bench/providers.ts --write=docs/benchmarks.md
	node bench/controller.ts --write=docs/benchmarks.md
	node bench/limit.ts --profile --write=docs/benchmarks.md

clean:
	rm -rf dist node_modules
