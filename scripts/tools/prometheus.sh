#!/usr/bin/env bash
# promtool (checks metrics text, rules files and rule unit tests), from Debian's
# `prometheus` package: only unpacked into <target>/tools/prometheus, nothing is
# installed system-wide, and the server itself is never run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# The workspace's target dir, where the tests look (as kube.sh).
tools=${CARGO_TARGET_DIR:-$PWD/target}/tools
bin=$tools/bin
[ -x "$bin/promtool" ] && exit 0

dir=$tools/prometheus
mkdir -p "$dir" "$bin"
work=$(mktemp -d)
chmod a+rwx "$work" # apt downloads as its own user, _apt
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get download prometheus >/dev/null ) || {
    echo "could not download Debian's prometheus package (apt-get download prometheus); run apt-get update and retry" >&2
    exit 1
}
dpkg-deb -x "$work"/prometheus_*.deb "$dir"
ln -sf ../prometheus/usr/bin/promtool "$bin/promtool"
"$bin/promtool" --version >/dev/null
