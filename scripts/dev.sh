#!/usr/bin/env bash
# Runs the whole application on this machine:
#   Postgres + Redis (scripts/services.sh), the `spindle` database and its
#   migrations, local secrets, `spin build`, then
#   - one `spin up` for every HTTP component, listening on 127.0.0.1:3000
#   - one `spin up -c <component>` for each Redis- or cron-triggered component,
#     restarted whenever it exits (a lost Redis connection ends a Spin process).
# Ctrl-C stops them all.
#
# Any SPIN_VARIABLE_* already set in the environment wins over the local values.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

LISTEN=${SPINDLE_LISTEN:-127.0.0.1:3000}
SECRETS_FILE=.spin/dev-secrets.env
DB_NAME=spindle
PG_HOST=127.0.0.1
PG_PORT=5432
SPIN_VERSION=v3.6.3
CRON_PLUGIN_MANIFEST=https://github.com/spinframework/spin-trigger-cron/releases/download/canary/trigger-cron.json

say() { printf 'dev: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- services and database --------------------------------------------------
bash scripts/services.sh

if [ "$(psql -X -w -q -tA -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
    -c "select 1 from pg_database where datname = '$DB_NAME'")" != "1" ]; then
    say "creating database $DB_NAME"
    psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
        -c "create database $DB_NAME" >/dev/null
fi

# --- local secrets, generated once --------------------------------------------
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

mkdir -p .spin
if [ ! -s "$SECRETS_FILE" ]; then
    say "generating local secrets in $SECRETS_FILE"
    (
        umask 077
        {
            echo "# Local development secrets for Spindle. Not for any shared deployment."
            echo "SPIN_VARIABLE_JWT_SECRET=$(random_hex)"
            echo "SPIN_VARIABLE_ADMIN_TOKEN=$(random_hex)"
            echo "SPIN_VARIABLE_INTERNAL_TOKEN=$(random_hex)"
        } >"$SECRETS_FILE"
    )
fi
chmod 600 "$SECRETS_FILE"

# Web Push: a VAPID key pair, added to a secrets file written before it existed too.
if ! grep -q '^SPIN_VARIABLE_VAPID_PRIVATE_KEY=.' "$SECRETS_FILE"; then
    say "generating a VAPID key pair for Web Push in $SECRETS_FILE"
    vapid_private_key=$(cargo run -q -p spindle-tools --bin spindle-vapid-keys |
        sed -n 's/^vapid_private_key=//p')
    [ -n "$vapid_private_key" ] || die "spindle-vapid-keys printed no key"
    echo "SPIN_VARIABLE_VAPID_PRIVATE_KEY=$vapid_private_key" >>"$SECRETS_FILE"
fi

# Reads KEY=VALUE lines (SPIN_VARIABLE_* only) without overriding the environment.
while IFS='=' read -r key value; do
    case "$key" in
        SPIN_VARIABLE_[A-Z0-9_]*)
            if [ -z "${!key:-}" ]; then
                export "$key=$value"
            fi
            ;;
    esac
done <"$SECRETS_FILE"

export SPIN_VARIABLE_DB_URL=${SPIN_VARIABLE_DB_URL:-postgres://postgres@$PG_HOST:$PG_PORT/$DB_NAME?sslmode=disable}
export SPIN_VARIABLE_REDIS_URL=${SPIN_VARIABLE_REDIS_URL:-redis://127.0.0.1:6379}
export SPIN_VARIABLE_DB_HOST=${SPIN_VARIABLE_DB_HOST:-$PG_HOST:$PG_PORT}
export SPIN_VARIABLE_REDIS_HOST=${SPIN_VARIABLE_REDIS_HOST:-127.0.0.1:6379}
export SPIN_VARIABLE_VAPID_SUBJECT=${SPIN_VARIABLE_VAPID_SUBJECT:-mailto:dev@localhost}
export SPIN_VARIABLE_CORS_ALLOWED_ORIGINS=${SPIN_VARIABLE_CORS_ALLOWED_ORIGINS:-http://localhost:3000,http://localhost:5173}
# MCP clients are told the endpoint's address (/.well-known/oauth-protected-resource).
export SPIN_VARIABLE_PUBLIC_BASE_URL=${SPIN_VARIABLE_PUBLIC_BASE_URL:-http://$LISTEN}
# Sign-in through an identity provider instead of (or besides) the local HS256
# secret: set SPIN_VARIABLE_JWT_JWKS_URL (e.g. a Better Auth app's
# http://localhost:5173/api/auth/jwks), and SPIN_VARIABLE_JWT_ISSUER /
# SPIN_VARIABLE_JWT_AUDIENCE to check iss/aud. The components may fetch keys
# only from the JWKS address's own origin.
if [ -n "${SPIN_VARIABLE_JWT_JWKS_URL:-}" ] && [ -z "${SPIN_VARIABLE_JWT_JWKS_ORIGIN:-}" ]; then
    jwks_rest=${SPIN_VARIABLE_JWT_JWKS_URL#*://}
    export SPIN_VARIABLE_JWT_JWKS_ORIGIN="${SPIN_VARIABLE_JWT_JWKS_URL%%://*}://${jwks_rest%%/*}"
fi

# --- migrations ---------------------------------------------------------------
say "applying migrations to $DB_NAME"
cargo run -q -p spindle-tools --bin spindle-migrate -- "$SPIN_VARIABLE_DB_URL"

# --- Spin ---------------------------------------------------------------------
if ! command -v spin >/dev/null 2>&1; then
    cat >&2 <<EOF

Spin is not installed. Spindle runs on Spin 3.6 ($SPIN_VERSION):

  curl -fsSL https://spinframework.dev/downloads/install.sh | bash -s -- -v $SPIN_VERSION
  sudo mv spin /usr/local/bin/spin

  (or download spin-$SPIN_VERSION for your platform from
   https://github.com/spinframework/spin/releases/tag/$SPIN_VERSION)

Then the cron trigger plugin, which runs reminder-cron:

  spin plugins install --url $CRON_PLUGIN_MANIFEST --yes

and run this command again.
EOF
    exit 1
fi

# Components by trigger type, read from spin.toml: "<type> <component>" lines.
triggers=$(awk '
    /^\[\[trigger\.[A-Za-z0-9_-]+\]\]/ { t = $0; sub(/^\[\[trigger\./, "", t); sub(/\]\].*$/, "", t); next }
    /^\[/ { t = ""; next }
    t != "" && $0 ~ /^[[:space:]]*component[[:space:]]*=/ {
        c = $0; sub(/^[^"]*"/, "", c); sub(/".*$/, "", c); print t, c
    }
' spin.toml | sort -u)

http_components=()
handler_components=()
needs_cron=0
while read -r type component; do
    [ -n "$component" ] || continue
    # The command-triggered tick is the cluster's (a CronJob starts it); locally
    # reminder-cron ticks, and a command would end and be restarted in a loop.
    [ "$type" = command ] && continue
    if [ "$type" = http ]; then
        http_components+=("$component")
    else
        handler_components+=("$component")
        [ "$type" = cron ] && needs_cron=1
    fi
done <<<"$triggers"
[ "${#http_components[@]}" -gt 0 ] || die "no HTTP components found in spin.toml"

# Without the cron plugin the tick still runs: POST /internal/tick every second.
tick_over_http=0
if [ "$needs_cron" -eq 1 ] && ! spin plugins list --installed 2>/dev/null | grep -q '^trigger-cron'; then
    cat >&2 <<EOF

The Spin cron trigger plugin is not installed, so reminder-cron cannot run.
The same tick will be driven through POST /internal/tick every second instead.
To use the cron trigger, install the plugin:

  spin plugins install --url $CRON_PLUGIN_MANIFEST --yes

EOF
    tick_over_http=1
    cron_components=$(printf '%s\n' "$triggers" | awk '$1 == "cron" { print $2 }')
    remaining=()
    for c in "${handler_components[@]}"; do
        grep -qx "$c" <<<"$cron_components" || remaining+=("$c")
    done
    handler_components=("${remaining[@]}")
fi

# The notifier calls user URLs: it runs with private networks blocked, unless
# webhooks to private addresses are allowed for local testing.
notifier_base=(runtime-config/notifier.toml)
if [ "${SPIN_VARIABLE_ALLOW_PRIVATE_WEBHOOKS:-false}" = true ]; then
    say "allow_private_webhooks=true: the notifier may call http and private addresses"
    export SPIN_VARIABLE_WEBHOOK_HOSTS=${SPIN_VARIABLE_WEBHOOK_HOSTS:-http://*:*}
    notifier_base=()
fi

# Every process reads its variables from a static provider in its runtime
# config (git-ignored, owner-only: it holds the secrets), written from the
# values above: Spin resolves every variable on each request's first outbound
# connection, and from the environment each lookup costs a blocking-thread
# hand-off (README, "Under load").
say "runtime configs in .spin/"
(
    umask 077
    cargo run -q -p spindle-tools --bin spindle-runtime-config -- spin.toml >.spin/runtime-config.toml
    cargo run -q -p spindle-tools --bin spindle-runtime-config -- spin.toml "${notifier_base[@]}" \
        >.spin/notifier-runtime-config.toml
)
spin_args=(--runtime-config-file .spin/runtime-config.toml)
notifier_args=(--runtime-config-file .spin/notifier-runtime-config.toml)

say "spin build"
spin build

# --- run ------------------------------------------------------------------------
# Each supervised process runs in its own process group (job control), so
# stopping one group stops the restart loop and its Spin process together.
set -m
groups=()

stop_all() {
    trap - INT TERM EXIT
    local pgid
    for pgid in "${groups[@]}"; do
        kill -TERM -- "-$pgid" 2>/dev/null || true
    done
    sleep 1
    for pgid in "${groups[@]}"; do
        kill -KILL -- "-$pgid" 2>/dev/null || true
    done
}
trap 'say "stopping"; stop_all; exit 0' INT TERM
trap stop_all EXIT

# supervise NAME COMMAND...: runs COMMAND, prefixing its output with [NAME], and
# starts it again when it exits, waiting 1 s, 2 s, 4 s ... up to 30 s between
# quick failures.
supervise() {
    set +m
    local name=$1 delay=1 started status
    shift
    while true; do
        started=$(date +%s)
        set +e
        "$@" 2>&1 | sed -u "s/^/[$name] /"
        status=${PIPESTATUS[0]}
        set -e
        if [ $(($(date +%s) - started)) -ge 60 ]; then
            delay=1
        fi
        say "$name exited with status $status; restarting in ${delay}s"
        sleep "$delay"
        delay=$((delay * 2 > 30 ? 30 : delay * 2))
    done
}

http_args=()
for c in "${http_components[@]}"; do
    http_args+=(-c "$c")
done
supervise http spin up --listen "$LISTEN" "${http_args[@]}" "${spin_args[@]}" &
groups+=("$!")

for c in "${handler_components[@]}"; do
    if [ "$c" = notifier ]; then
        supervise "$c" spin up -c "$c" "${notifier_args[@]}" &
    else
        supervise "$c" spin up -c "$c" "${spin_args[@]}" &
    fi
    groups+=("$!")
done

if [ "$tick_over_http" -eq 1 ]; then
    (
        while true; do
            curl -s -o /dev/null -X POST "http://$LISTEN/internal/tick" \
                -H "Authorization: Bearer $SPIN_VARIABLE_INTERNAL_TOKEN" || true
            sleep 1
        done
    ) &
    groups+=("$!")
fi

cat >&2 <<EOF

Spindle is starting on http://$LISTEN
  HTTP components:  ${http_components[*]}
  handlers:         ${handler_components[*]:-none} (each in its own process, restarted on exit)

  get a token:      make token USER=alice
                    (or: cargo run -q -p spindle-tools --bin spindle-token -- alice)
  try it:           curl -H "Authorization: Bearer \$(make -s token USER=alice)" http://$LISTEN/api/tasks
  health:           curl http://$LISTEN/healthz
  MCP (AI agents):  http://$LISTEN/mcp with the same bearer token (README: "MCP")

Ctrl-C stops everything.

EOF

wait
