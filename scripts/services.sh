#!/usr/bin/env bash
# Makes sure what Spindle and its tests need is on this machine, and starts
# what is not running:
#   - the Rust target wasm32-wasip2
#   - PostgreSQL on 127.0.0.1:5432, reachable as user postgres without a password
#   - Redis on 127.0.0.1:6379
# Installs missing Debian packages (apt-get) when run as root, or through sudo.
# Idempotent; prints nothing when everything is already there.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

SAY_AS=services
# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

# --- Rust target ------------------------------------------------------------
ensure_wasm_target() {
    command -v rustup >/dev/null 2>&1 || die "rustup not found: install Rust from https://rustup.rs"
    if ! rustup target list --installed | grep -qx 'wasm32-wasip2'; then
        say "adding the Rust target wasm32-wasip2"
        rustup target add wasm32-wasip2 >/dev/null
    fi
}

# --- PostgreSQL -------------------------------------------------------------
pg_ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }

pg_can_login() {
    PGCONNECT_TIMEOUT=5 psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
        -c 'select 1' >/dev/null 2>&1
}

pg_version() {
    # The newest cluster version under /etc/postgresql.
    find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1
}

# Lets user postgres in from 127.0.0.1 and ::1 without a password: this server
# is for local development and tests only.
pg_trust_local_tcp() {
    local version=$1 hba
    hba=/etc/postgresql/$version/main/pg_hba.conf
    [ -f "$hba" ] || die "no $hba"
    if ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+postgres[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        say "allowing password-less TCP logins for user postgres from localhost ($hba)"
        local tmp
        tmp=$(mktemp)
        {
            echo '# Local development: user postgres over TCP from this machine, no password.'
            echo 'host    all    postgres    127.0.0.1/32    trust'
            echo 'host    all    postgres    ::1/128         trust'
            as_root cat "$hba"
        } >"$tmp"
        as_root cp "$tmp" "$hba"
        rm -f "$tmp"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
    fi
}

ensure_postgres() {
    command -v psql >/dev/null 2>&1 || apt_install postgresql postgresql-client
    if ! pg_ready; then
        local version
        version=$(pg_version)
        if [ -z "$version" ]; then
            apt_install postgresql
            version=$(pg_version)
        fi
        [ -n "$version" ] || die "PostgreSQL is installed but no cluster is set up under /etc/postgresql"
        say "starting PostgreSQL $version"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
            die "could not start PostgreSQL $version (see /var/log/postgresql/)"
        for _ in $(seq 1 30); do
            pg_ready && break
            sleep 1
        done
        pg_ready || die "PostgreSQL does not answer on $PG_HOST:$PG_PORT"
    fi
    if ! pg_can_login; then
        local version
        version=$(pg_version)
        [ -n "$version" ] || die "cannot log in to PostgreSQL on $PG_HOST:$PG_PORT as postgres, and no local cluster to configure"
        pg_trust_local_tcp "$version"
        for _ in $(seq 1 10); do
            pg_can_login && break
            sleep 1
        done
        pg_can_login || die "cannot log in to PostgreSQL on $PG_HOST:$PG_PORT as user postgres without a password"
    fi
}

# --- Redis ------------------------------------------------------------------
redis_ready() {
    command -v redis-cli >/dev/null 2>&1 &&
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}

ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        apt_install redis-server
    fi
    if ! redis_ready; then
        say "starting Redis on $REDIS_HOST:$REDIS_PORT"
        redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" \
            --save "" --appendonly no >/dev/null
        for _ in $(seq 1 20); do
            redis_ready && break
            sleep 0.5
        done
        redis_ready || die "Redis does not answer on $REDIS_HOST:$REDIS_PORT"
    fi
}

ensure_wasm_target
ensure_postgres
ensure_redis
