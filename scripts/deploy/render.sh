#!/usr/bin/env bash
# Pins IMAGE (registry/name:tag) for every SpinApp, the tick and the migrate Job
# in the production overlay (kustomize edit set image) and renders the overlay
# into OUT.  Usage: render.sh IMAGE OUT
set -euo pipefail

image=${1:?usage: render.sh IMAGE OUT}
out=${2:?usage: render.sh IMAGE OUT}
overlay=${OVERLAY:-spinkube/overlays/production}

# The base names the image ghcr.io/spindle/spindle; this sets name and tag.
(cd "$overlay" && kustomize edit set image "ghcr.io/spindle/spindle=$image")
kubectl kustomize "$overlay" >"$out"
echo "rendered $overlay with $image into $out"
