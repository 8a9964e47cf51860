#!/usr/bin/env bash
# Checks the deployed API through its public URL: without a token GET
# /api/tasks is 401, with the smoke user's token 200. Retries for a minute
# while the Ingress picks up the new pods.
# Needs SPINDLE_PUBLIC_URL (https://tasks.example.com) and SMOKE_TOKEN.
set -euo pipefail

url=${SPINDLE_PUBLIC_URL:?set SPINDLE_PUBLIC_URL to the public base URL}
token=${SMOKE_TOKEN:?set SMOKE_TOKEN to a bearer token of the smoke-test user}

expect() {
    local want=$1 got=""
    shift
    for _ in $(seq 1 20); do
        got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true)
        [ "$got" = "$want" ] && return 0
        sleep 3
    done
    # The URL only: the arguments before it may carry the token.
    echo "expected $want from ${*: -1}, got ${got:-no answer}" >&2
    return 1
}

expect 401 "$url/api/tasks"
expect 200 -H "Authorization: Bearer $token" "$url/api/tasks?limit=1"
echo "smoke test passed: $url"
