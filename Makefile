# onewindow: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
# Builds go to a cache outside the clone, so a fresh clone (and CI) reuses compiled dependencies.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/onewindow/target
# Two cores: keep the build lean.
export CARGO_BUILD_JOBS ?= 2

.PHONY: run test test-unit bench fmt fmt-check lint proto-lint clean-data

## Starts the whole system in one process on 127.0.0.1:50050 (SQLite under ./data, demo data seeded).
run:
	cargo run -p onewindow -- run

## Every test: unit, embedded end to end, and distributed over a real PostgreSQL and a real NATS (fails if missing).
test:
	scripts/test-prepare.sh
	cargo build --workspace --bins
	source .test-env && cargo test --workspace --no-fail-fast

## Benchmarks (release build), JSON under bench-results/: document rendering per type, and the raw limits of
## PostgreSQL, SQLite (the event log's settings) and JetStream on this machine.
bench:
	scripts/test-prepare.sh
	cargo bench -p onewindow-documents --bench render
	source .test-env && cargo run --release -p onewindow-bench -- --seconds 5

## Tests that need no servers.
test-unit:
	cargo test --workspace --lib

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

## buf lint (STANDARD rules) over proto/.
proto-lint:
	npx --yes @bufbuild/buf@1 lint

clean-data:
	rm -rf data
