# Everyday commands. The scripts under scripts/ do the work.

# `make token USER=bob`: only a USER given on the command line counts, not the login name.
TOKEN_USER = $(if $(filter command line,$(origin USER)),$(USER),alice)
TTL ?= 3600
WASM_PACKAGES := $(foreach c,$(wildcard components/*/Cargo.toml),-p $(notdir $(patsubst %/,%,$(dir $(c)))))

.PHONY: dev test build token

## dev: run the whole app locally (Postgres, Redis, migrations, spin up)
dev:
	bash scripts/dev.sh

## test: formatting, lints, the Wasm build and every test
test:
	bash scripts/test.sh

## build: build every component to target/wasm32-wasip2/release/*.wasm
build:
	cargo build --target wasm32-wasip2 --release $(WASM_PACKAGES)

## token: print a development JWT, e.g. make token USER=bob TTL=600
token:
	@cargo run -q -p spindle-tools --bin spindle-token -- "$(TOKEN_USER)" --ttl "$(TTL)"
