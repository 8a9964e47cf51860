#!/usr/bin/env bash
# Runs the migrate Job of a rendered deploy to completion before anything else
# of it is applied, so no new handler runs on an old schema (spinkube/README.md,
# "Deploy"): applies only the Job and the ConfigMap spindle-settings it reads
# (components `migrate` and `settings`). A Job's template cannot change, so the
# previous one is deleted first; migrations are safe to run again.
# Usage: migrate.sh RENDERED
set -euo pipefail

rendered=${1:?usage: migrate.sh RENDERED}
ns=${NAMESPACE:-spindle}
job=spindle-migrate

kubectl -n "$ns" delete job "$job" --ignore-not-found --wait=true
kubectl apply -f "$rendered" -l 'app.kubernetes.io/component in (settings,migrate)'

# Complete or Failed, whichever comes first (kubectl wait takes one condition).
for _ in $(seq 1 120); do
    conditions=$(kubectl -n "$ns" get job "$job" \
        -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
    case " $conditions " in
    *" Complete "*)
        kubectl -n "$ns" logs "job/$job" --tail=20 || true
        exit 0
        ;;
    *" Failed "*)
        echo "the migration failed:" >&2
        kubectl -n "$ns" logs "job/$job" --tail=50 >&2 || true
        exit 1
        ;;
    esac
    sleep 5
done
echo "the migration did not finish within 10 minutes" >&2
kubectl -n "$ns" describe job "$job" >&2 || true
exit 1
