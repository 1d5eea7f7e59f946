# The two commands of the README:
#   make demo   set up, build, load the demo network into SQLite and show it
#   make test   set up and run every check (format, lints, all tests)
#
# The target directory lives outside the clone so that CI and fresh clones
# reuse one build cache.

CARGO_TARGET_DIR ?= $(HOME)/.cache/touban/target
export CARGO_TARGET_DIR
DB ?= touban.db

.PHONY: setup build demo test lint

setup:
	@bash scripts/setup.sh

build: setup
	cargo build --release --locked -p touban-cli

demo: build
	$(CARGO_TARGET_DIR)/release/touban demo --db $(DB)

lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

test: lint
	bash scripts/venv.sh >/dev/null
	bash scripts/postgres.sh
	cargo test --workspace --locked
	bash scripts/schemathesis.sh
