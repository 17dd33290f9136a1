# Every target runs on the Node.js 24 that `npm ci` installs into node_modules/.bin, whatever the machine has.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: all install build test test-unit test-integration test-e2e lint format run env-build node-build \
	node-packages bench bench-at-rest bench-growth bench-eso clean chart release-manifest uninstall kind-e2e

all: lint build test

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	npm run build

## Every test: builds (or reuses) the local control plane and stores, the real node's kubelet and the operator's
## image, then runs unit, integration and end-to-end tests side by side (scripts/test-all.mjs).
test: install node-build
	npm test

test-unit: install
	npx vitest run --project unit

test-integration: install env-build
	npx vitest run --project integration

## End to end on the real node (containerd and a kubelet on this machine, as root; see docs/testing.md).
test-e2e: install node-build
	npx vitest run --project e2e

## The same end-to-end suite on a kind cluster, for machines with Docker (docs/testing.md, "On kind"): creates
## the cluster, builds the image with docker, runs test/e2e and deletes the cluster. KIND_E2E_ARGS=--keep keeps it.
kind-e2e: install env-build
	node test/kind/cli.ts $(KIND_E2E_ARGS)

lint: install
	npm run lint

format: install
	npm run format

## Build or verify the binaries of the test environment (cached under $$HOME/.cache/secretlink).
env-build: install
	node test/env/cli.ts build

## The real node's host packages (installed with apt-get as root when missing), its kubelet and the operator's
## image built from the Dockerfile (cached under $$HOME/.cache/secretlink).
node-packages:
	@scripts/node-packages.sh

node-build: install node-packages
	node test/env/cli.ts build --real-node

## The demo: the operator on a local control plane and stores on loopback, with a dbt CronJob using a
## SecretReference; kept up until Ctrl-C. `node test/env/cli.ts up` starts the environment alone.
run: install env-build
	node test/env/cli.ts demo

## Benchmarks (several minutes): each starts its own environment and rewrites its section of docs/benchmarks.md.
## The last, bench-eso, first builds External Secrets Operator from Go modules when it is not cached (a cold build
## took 7 to 17 minutes here; no test needs it, so `make test` and env-build never build it), then takes about 40
## minutes: 10,000 objects for each of ESO at its defaults, ESO tuned and secretlink.
bench: install env-build
	node bench/environment.ts --write=docs/benchmarks.md
	node bench/providers.ts --write=docs/benchmarks.md
	node bench/controller.ts --write=docs/benchmarks.md
	node bench/limit.ts --profile --write=docs/benchmarks.md
	node bench/memory.ts --write=docs/benchmarks.md
	node bench/growth.ts --write=docs/benchmarks.md
	node bench/at-rest.ts --write=docs/benchmarks.md
	$(MAKE) bench-eso

## secretlink side by side with External Secrets Operator (bench/eso.ts), alone.
bench-eso: install env-build
	node bench/eso.ts --write=docs/benchmarks.md

## The operator's requests at rest (1,000 references, 10 minutes), counted in kube-apiserver's audit log.
bench-at-rest: install env-build
	node bench/at-rest.ts --write=docs/benchmarks.md

## Memory, convergence after a restart and requests at rest at 100, 1,000 and 10,000 references, with a chart
## (docs/benchmarks-growth.svg). Tens of minutes on a 2-core machine.
bench-growth: install env-build
	node bench/growth.ts --write=docs/benchmarks.md

## Regenerates charts/secretlink and config/prometheus/prometheusrule.yaml from config/ (the tests fail when
## they are stale). kubectl is the test environment's.
chart: install
	node scripts/release/cli.ts chart

## The single-file install manifest of this release: dist/install.yaml, everything config/default installs.
release-manifest: install
	node scripts/release/cli.ts manifest --out=dist/install.yaml

## Removes a `kubectl apply -k config/default` install in the order that keeps the cluster working
## (docs/operations.md, "Uninstall"): SecretReferences first, while the operator still revokes their Secrets
## and the pod policy still guards them; then the policies; then the operator; the CRDs last, once nothing
## refers to them. The secretlink-system namespace (audit volumes, signing key) is left for you to archive.
KUBECTL ?= kubectl
uninstall:
	if $(KUBECTL) get crd secretreferences.secretlink.dev >/dev/null 2>&1; then \
	  $(KUBECTL) delete secretreferences.secretlink.dev --all --all-namespaces --wait; fi
	$(KUBECTL) delete -k config/admission --wait --ignore-not-found
	$(KUBECTL) delete -n secretlink-system statefulset/secretlink-operator --wait --ignore-not-found
	$(KUBECTL) delete -k config/rbac --ignore-not-found
	$(KUBECTL) delete -k crds --wait --ignore-not-found

clean:
	rm -rf dist node_modules
