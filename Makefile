# onewindow: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
# Builds go to a cache outside the clone, so a fresh clone (and CI) reuses compiled dependencies.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/onewindow/target
# Two cores: keep the build lean.
export CARGO_BUILD_JOBS ?= 2

.PHONY: run demo test test-unit bench fmt fmt-check lint proto-lint proto-breaking clean-data

## Starts the whole system in one process on 127.0.0.1:50050 (SQLite under ./data, demo data seeded).
run:
	cargo run -p onewindow -- run

## With `make run` in another terminal: the certificate-of-study flow as the demo accounts (same build as `run`);
## `make demo URL=http://host:port` for a system elsewhere.
demo:
	cargo run -p onewindow -- demo $(if $(URL),--url $(URL))

## Every test: unit, embedded end to end, and distributed over a real PostgreSQL and a real NATS (fails if missing).
test:
	scripts/test-prepare.sh
	cargo build --workspace --bins
	source .test-env && cargo test --workspace --no-fail-fast

## Benchmarks (release build, under ten minutes on 2 cores): document rendering per type; then one run of
## `onewindow-bench all`: the raw limits of PostgreSQL, SQLite and JetStream, one application's 1,000-event load,
## and the clearance-sheet flow under load in the embedded and the distributed mode, as ratios of those limits.
## JSON under bench-results/ (raw-limits.json, flow.json); the table is printed at the end.
bench:
	scripts/test-prepare.sh
	cargo build --release --workspace --bins
	cargo bench -p onewindow-documents --bench render
	source .test-env && "$(CARGO_TARGET_DIR)/release/onewindow-bench" --seconds 3 all --million-event-rebuild

## Tests that need no servers.
test-unit:
	cargo test --workspace --lib

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

## Clippy over every crate and target, warnings denied.
lint:
	cargo clippy --workspace --all-targets -- -D warnings

## buf lint (STANDARD rules) over proto/.
proto-lint:
	npx --yes @bufbuild/buf@1 lint

## buf breaking against the main branch's protos (PROTO_BASE=<ref> to compare with another).
proto-breaking:
	scripts/proto-breaking.sh

clean-data:
	rm -rf data
