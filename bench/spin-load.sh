#!/usr/bin/env bash
# Load benchmark under a real `spin up`: Spindle's HTTP routes against a floor
# component built the same way (bench/floor: hello; open + SELECT 1; open + a
# minimal first page; and, to split the gap, Spindle's own page and get-by-id
# statements with no Spindle code around them), each driven by wrk at 16 and 64
# connections, in one run on one database, printed as a table with ratios.
#
#   bash bench/spin-load.sh            # DURATION=10s per scenario (after WARMUP=2s)
#   CONNECTIONS=64 ONLY='first page|limit=50' DURATION=5s bash bench/spin-load.sh
#                                      # a quick run: some connection counts, and
#                                      # the scenarios whose name matches ONLY
#
# Without `spin` on PATH it says so and exits 0. Needs the local Postgres and
# Redis (as the tests do); installs wrk (Debian package) when it is missing.
# It creates a database of its own and drops it at the end.
#
# A baseline build runs in the same run too: tasks-api as it was at BASELINE
# (default: the last commit before the work on load, when a POST took six round
# trips), built from git into target/bench-baseline/<commit>, on a database of
# its own migrated and seeded the same way by that commit's tools. Its list, get
# and POST are measured like Spindle's, and Spindle's POST is compared with its
# POST. BASELINE= (empty) skips it; so does a checkout without git history.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v spin >/dev/null 2>&1; then
    echo "spin is not on PATH: skipping the Spin load benchmark (install Spin 3.6 to run it)."
    exit 0
fi
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    else
        echo "wrk is missing (Debian: apt-get install wrk): skipping the Spin load benchmark."
        exit 0
    fi
fi

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16 64}
WARMUP=${WARMUP:-2s}
ONLY=${ONLY:-}
BASELINE=${BASELINE-114158c}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
APP_PORT=${APP_PORT:-3900}
FLOOR_PORT=${FLOOR_PORT:-3901}
BASE_PORT=${BASE_PORT:-3902}
DB="spindle_load_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
BASE_DB="${DB}_baseline"
LIST_USER=lister      # 10 000 tasks: the list, get and the floor's page
BIG_USER=hoarder      # 100 000 tasks: tags and a search matching every task
WORK=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for db in "$DB" "$BASE_DB"; do
        psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '==> %s\n' "$*" >&2; }

say "building the components and the floor (wasm32-wasip2, release)"
cargo build -q --target wasm32-wasip2 --release -p tasks-api -p tags-api -p changes-api -p bench-floor
cargo build -q --release -p spindle-tools
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

# Manifests that point at wherever cargo put the wasm files.
sed "s#source = \"target/#source = \"$TARGET/#" spin.toml >"$WORK/spin.toml"
sed "s#source = \"../../target/#source = \"$TARGET/#" bench/floor/spin.toml >"$WORK/floor.toml"

# seed DB: both users' tasks, 30 % of dated tasks with a reminder, as the app
# would have written them.
seed() {
    psql -q "$PG/$1" >/dev/null <<SQL
INSERT INTO tasks (id, user_id, title, description, priority, tags, due_at, created_at, updated_at)
SELECT gen_random_uuid(), u.name, 'task ' || g || ' ' || (ARRAY['plan','review','call','write'])[1 + g % 4],
       'a task to do', 1 + g % 4, ARRAY[(ARRAY['work','home','errands','health','finance'])[1 + g % 5]],
       CASE WHEN g % 10 < 7 THEN now() + (g % 700 - 350) * interval '1 day' END, now(), now()
  FROM (VALUES ('$LIST_USER', 10000), ('$BIG_USER', 100000)) AS u(name, n),
       generate_series(1, u.n) AS g;
INSERT INTO reminders (id, task_id, user_id, position, minutes_before, fire_at, state, created_at)
SELECT gen_random_uuid(), id, user_id, 0, 60, due_at - interval '60 minutes', 'pending', now()
  FROM tasks WHERE due_at IS NOT NULL AND random() < 0.3;
-- What the app writes with a task's reminders (migration 0010; the baseline
-- predates it): a list folds them in by this count.
DO \$\$ BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_name = 'tasks' AND column_name = 'reminder_count') THEN
        UPDATE tasks t SET reminder_count = r.n
          FROM (SELECT task_id, count(*) AS n FROM reminders GROUP BY task_id) r
         WHERE r.task_id = t.id;
    END IF;
END \$\$;
VACUUM (ANALYZE);
SQL
}

say "database $DB: migrations and seed ($LIST_USER 10 000 tasks, $BIG_USER 100 000)"
psql -q "$PG/postgres" -c "CREATE DATABASE $DB" >/dev/null
export SPIN_VARIABLE_DB_URL="$PG/$DB?sslmode=disable"
"$TARGET/release/spindle-migrate" "$SPIN_VARIABLE_DB_URL" >/dev/null
seed "$DB"

if [ -n "$BASELINE" ] && git rev-parse -q --verify "$BASELINE^{commit}" >/dev/null 2>&1; then
    say "baseline: tasks-api at $BASELINE (built once into target/bench-baseline/$BASELINE)"
    BASE_DIR="$TARGET/bench-baseline/$BASELINE"
    if [ ! -d "$BASE_DIR/src" ]; then
        mkdir -p "$BASE_DIR/src"
        git archive "$BASELINE" | tar -x -C "$BASE_DIR/src"
    fi
    (cd "$BASE_DIR/src" && CARGO_TARGET_DIR="$BASE_DIR/target" \
        cargo build -q --target wasm32-wasip2 --release -p tasks-api &&
        CARGO_TARGET_DIR="$BASE_DIR/target" cargo build -q --release -p spindle-tools)
    sed "s#source = \"target/#source = \"$BASE_DIR/target/#" "$BASE_DIR/src/spin.toml" >"$WORK/baseline.toml"
    psql -q "$PG/postgres" -c "CREATE DATABASE $BASE_DB" >/dev/null
    "$BASE_DIR/target/release/spindle-migrate" "$PG/$BASE_DB?sslmode=disable" >/dev/null
    seed "$BASE_DB"
else
    BASELINE=""
    say "no baseline (BASELINE is empty or not a commit here): the POST is compared with the floor only"
fi

export SPIN_VARIABLE_REDIS_URL=${SPIN_VARIABLE_REDIS_URL:-redis://127.0.0.1:6379}
export SPIN_VARIABLE_DB_HOST=${SPIN_VARIABLE_DB_HOST:-127.0.0.1:5432}
export SPIN_VARIABLE_REDIS_HOST=${SPIN_VARIABLE_REDIS_HOST:-127.0.0.1:6379}
export SPIN_VARIABLE_FLOOR_USER=$LIST_USER
# The key the benchmark's tokens are signed with (optional in spin.toml, where
# an identity provider's JWKS may sign instead).
export SPIN_VARIABLE_JWT_SECRET=${SPIN_VARIABLE_JWT_SECRET:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}
# Every other required variable gets a throwaway value.
for name in $(sed -n 's/^\([a-z_]*\) = { required = true.*/\1/p' spin.toml); do
    var="SPIN_VARIABLE_$(echo "$name" | tr a-z A-Z)"
    [ -n "${!var:-}" ] || export "$var=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
done

# As deployed: RUST_BACKTRACE makes Spin's host capture a backtrace on an internal
# error path of every Postgres address check (about 2 % of a request here).
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

# Every app gets its variables from a static provider in its runtime config, as
# scripts/dev.sh runs Spindle: Spin resolves every variable of an app on each
# request's first outbound connection, and its environment provider hands each
# lookup to a blocking thread (see README, "Under load"). The floor and the
# baseline get the same, so each pays only for its own variables.
runtime_config() { (umask 077 && "$TARGET/release/spindle-runtime-config" "$@"); }
runtime_config spin.toml >"$WORK/app-rc.toml"
runtime_config bench/floor/spin.toml >"$WORK/floor-rc.toml"
if [ -n "$BASELINE" ]; then
    SPIN_VARIABLE_DB_URL="$PG/$BASE_DB?sslmode=disable" runtime_config "$BASE_DIR/src/spin.toml" >"$WORK/baseline-rc.toml"
fi

# One Spin process at a time: each holds up to 64 Postgres connections, and two
# of them at 64 connections would exceed a default max_connections of 100.
server=""
serve() {
    [ "$server" = "$1" ] && return
    if [ "${#pids[@]}" -gt 0 ]; then
        kill "${pids[@]}" 2>/dev/null || true
        wait 2>/dev/null || true
        pids=()
    fi
    case "$1" in
        app) spin up -f "$WORK/spin.toml" --listen "127.0.0.1:$APP_PORT" -c tasks-api -c tags-api -c changes-api \
                 --runtime-config-file "$WORK/app-rc.toml" >>"$WORK/app.log" 2>&1 &
             ready="http://127.0.0.1:$APP_PORT/api/tags" ;;
        floor) spin up -f "$WORK/floor.toml" --listen "127.0.0.1:$FLOOR_PORT" \
                   --runtime-config-file "$WORK/floor-rc.toml" >>"$WORK/floor.log" 2>&1 &
               ready="http://127.0.0.1:$FLOOR_PORT/floor/hello" ;;
        baseline) spin up -f "$WORK/baseline.toml" --listen "127.0.0.1:$BASE_PORT" -c tasks-api \
                      --runtime-config-file "$WORK/baseline-rc.toml" >>"$WORK/baseline.log" 2>&1 &
                  ready="http://127.0.0.1:$BASE_PORT/api/tasks" ;;
    esac
    pids+=("$!")
    for _ in $(seq 100); do
        curl -s -o /dev/null "$ready" && break
        sleep 0.2
    done
    server=$1
}

token() { SPIN_VARIABLE_JWT_SECRET=$SPIN_VARIABLE_JWT_SECRET "$TARGET/release/spindle-token" "$1" --ttl 7200; }
LIST_AUTH="Authorization: Bearer $(token $LIST_USER)"
BIG_AUTH="Authorization: Bearer $(token $BIG_USER)"
# POSTs spread over 64 users, as many writers as connections: one user's
# events commit in sequence, so a single user's writes queue on each other.
{
    echo "local tokens = {"
    for n in $(seq 64); do echo "  \"$(token "writer$n")\","; done
    echo "}"
    cat <<'LUA'
local body = '{"title":"Load test task","priority":"P2","tags":["load"],"due_at":"2030-01-01T09:00:00Z","reminders":[{"minutes_before":30}]}'
local n = 0
request = function()
  n = n + 1
  local headers = { ["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer " .. tokens[n % #tokens + 1] }
  return wrk.format("POST", nil, headers, body)
end
LUA
} >"$WORK/post.lua"

APP="http://127.0.0.1:$APP_PORT"
FLOOR="http://127.0.0.1:$FLOOR_PORT/floor"
BASE="http://127.0.0.1:$BASE_PORT"
POST_NAME="POST /api/tasks (one reminder, 64 users)"
if [ -n "$BASELINE" ]; then POST_BASE="baseline $BASELINE: POST /api/tasks"; else POST_BASE="floor: open + first page"; fi
# name | url | auth header | extra wrk args | floor it is compared with
scenarios=(
    "floor: hello|$FLOOR/hello|||"
    "floor: open + SELECT 1|$FLOOR/select1|||"
    "floor: open + first page|$FLOOR/page|||"
    "floor: open + first page, every column (Spindle's routine)|$FLOOR/page-every-column|||floor: open + first page"
    "floor: open + get by id (Spindle's routine)|$FLOOR/get|||floor: open + SELECT 1"
    ${BASELINE:+"baseline $BASELINE: GET /api/tasks?limit=50|$BASE/api/tasks?limit=50|$LIST_AUTH||"}
    ${BASELINE:+"baseline $BASELINE: GET /api/tasks/{missing id}|$BASE/api/tasks/00000000-0000-4000-8000-000000000000|$LIST_AUTH||"}
    ${BASELINE:+"baseline $BASELINE: POST /api/tasks|$BASE/api/tasks||-s $WORK/post.lua|"}
    "GET /api/tasks without a token (401, no SQL)|$APP/api/tasks?limit=50|||floor: hello"
    "GET /api/tasks?limit=50|$APP/api/tasks?limit=50|$LIST_AUTH||floor: open + first page"
    "GET /api/tasks/{missing id}|$APP/api/tasks/00000000-0000-4000-8000-000000000000|$LIST_AUTH||floor: open + SELECT 1"
    "$POST_NAME|$APP/api/tasks||-s $WORK/post.lua|$POST_BASE"
    "GET /api/tasks?limit=50 (100 000 tasks)|$APP/api/tasks?limit=50|$BIG_AUTH||floor: open + first page"
    "GET /api/tags (100 000 tasks)|$APP/api/tags|$BIG_AUTH||GET /api/tasks?limit=50 (100 000 tasks)"
    "search q=task (every one of 100 000)|$APP/api/tasks?q=task|$BIG_AUTH||GET /api/tasks?limit=50 (100 000 tasks)"
)

# Milliseconds from wrk's "12.34ms" / "1.02s" / "870.00us".
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
        printf "%.1f", n }'
}

declare -A RPS P99
if [ -n "$ONLY" ]; then
    kept=()
    for scenario in "${scenarios[@]}"; do
        if [[ "${scenario%%|*}" =~ $ONLY ]]; then kept+=("$scenario"); fi
    done
    scenarios=("${kept[@]}")
fi

for phase in floor baseline app; do
  for connections in $CONNECTIONS; do
    for scenario in "${scenarios[@]}"; do
        IFS='|' read -r name url auth extra _ <<<"$scenario"
        case "$url" in "$FLOOR"*) served_by=floor ;; "$BASE"*) served_by=baseline ;; *) served_by=app ;; esac
        [ "$served_by" = "$phase" ] || continue
        serve "$phase"
        args=(-t2 "-c$connections" --latency)
        [ -n "$auth" ] && args+=(-H "$auth")
        # shellcheck disable=SC2206
        [ -n "$extra" ] && args+=($extra)
        say "wrk -c$connections $name"
        # A short run first, unmeasured: the pool's new connections and their
        # first plans belong to no scenario's figures.
        wrk "${args[@]}" "-d$WARMUP" "$url" >/dev/null
        out=$(wrk "${args[@]}" "-d$DURATION" "$url")
        if echo "$out" | grep -q "Non-2xx"; then
            echo "$out" | grep "Non-2xx" | sed "s|^|    $name: |" >&2
        fi
        RPS["$name/$connections"]=$(echo "$out" | awk '/^Requests\/sec/ {printf "%.0f", $2}')
        P99["$name/$connections"]=$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
    done
  done
done

echo
echo "Spin $(spin --version | awk '{print $2}'), wrk -t2, $DURATION per run, $(nproc) cores shared by spin, Postgres and wrk"
echo
echo "| what | c | req/s | p99 ms | compared with | req/s ratio | p99 ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for connections in $CONNECTIONS; do
    for scenario in "${scenarios[@]}"; do
        IFS='|' read -r name _ _ _ base <<<"$scenario"
        rps=${RPS["$name/$connections"]:-0}
        p99=${P99["$name/$connections"]:-0}
        if [ -n "$base" ]; then
            ratios=$(awk -v r="$rps" -v p="$p99" -v br="${RPS["$base/$connections"]:-0}" -v bp="${P99["$base/$connections"]:-0}" \
                'BEGIN { printf "%.0f %% | %.2f×", (br > 0 ? 100 * r / br : 0), (bp > 0 ? p / bp : 0) }')
            echo "| $name | $connections | $rps | $p99 | $base | $ratios |"
        else
            echo "| $name | $connections | $rps | $p99 | | | |"
        fi
    done
done
