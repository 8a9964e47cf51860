#!/usr/bin/env bash
# Waits until every SpinApp runs IMAGE: the operator turns each SpinApp into a
# Deployment of the same name, so wait for that Deployment to carry the image
# (the operator updates it shortly after the apply), then for its rollout, then
# for the SpinApp's Available condition.  Usage: wait.sh IMAGE
set -euo pipefail

image=${1:?usage: wait.sh IMAGE}
ns=${NAMESPACE:-spindle}

apps=$(kubectl -n "$ns" get spinapps -o jsonpath='{.items[*].metadata.name}')
[ -n "$apps" ] || { echo "no SpinApps in namespace $ns" >&2; exit 1; }
for app in $apps; do
    for _ in $(seq 1 60); do
        kubectl -n "$ns" get deployment "$app" >/dev/null 2>&1 && break
        sleep 2
    done
    kubectl -n "$ns" wait "deployment/$app" --timeout=300s \
        --for=jsonpath='{.spec.template.spec.containers[0].image}'="$image"
    kubectl -n "$ns" rollout status "deployment/$app" --timeout=600s
done
kubectl -n "$ns" wait spinapp --all --for=condition=Available --timeout=300s
