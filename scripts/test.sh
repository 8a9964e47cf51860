#!/usr/bin/env bash
# The one test command: services, formatting, lints, the Wasm build of every
# component, then the whole test suite. Stops at the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "services"
bash scripts/services.sh

step "check tools (scripts/tools/*.sh)"
for tool_script in scripts/tools/*.sh; do
    [ -f "$tool_script" ] || continue
    bash "$tool_script"
done

step "cargo fmt --all --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# Package names of the component crates (the first `name =` of each Cargo.toml).
components=()
for manifest in components/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    name=$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1)
    [ -n "$name" ] || { echo "no package name in $manifest" >&2; exit 1; }
    components+=("$name")
done
[ "${#components[@]}" -gt 0 ] || { echo "no component crates under components/" >&2; exit 1; }

step "cargo build --target wasm32-wasip2 --release (${components[*]})"
package_args=()
for c in "${components[@]}"; do
    package_args+=(-p "$c")
done
cargo build --target wasm32-wasip2 --release "${package_args[@]}"
for c in "${components[@]}"; do
    wasm="target/wasm32-wasip2/release/${c//-/_}.wasm"
    [ -f "$wasm" ] || { echo "expected $wasm after the build" >&2; exit 1; }
done

step "cargo test --workspace"
cargo test --workspace
