#!/usr/bin/env bash
# schemathesis against /api/v1/schema/, authenticated as the demo `cadre`, then as `yibao`.
#
# Builds a small demo county (300 households) in its own database, serves it with gunicorn on
# 127.0.0.1:$SCHEMATHESIS_PORT, takes cadre's token from POST /api/v1/auth/token/ and runs
# schemathesis with two checks: no server error (5xx) and every response conforms to the
# schema. The two token logout endpoints are left out: calling them revokes the very token the
# run uses (they are tested in tests/povertyapp/test_tokens.py). Bounded: a fixed number of examples per operation and a time budget. Exits non-zero
# on any failure.
#
# Environment:
#   SCHEMATHESIS_DATABASE_URL  database to build the demo in (dropped and recreated when it is
#                              PostgreSQL); default: a throwaway SQLite file
#   SCHEMATHESIS_PORT          default 18765
#   SCHEMATHESIS_MAX_EXAMPLES  per operation, default 25
#   SCHEMATHESIS_MAX_TIME      seconds for the whole run, default 300
#   SCHEMATHESIS_SEED          default 2020 (reproducible runs)
#   SCHEMATHESIS_USERS         the demo accounts to run as, in turn, default "cadre yibao"
#   RATE_LIMIT_API, RATE_LIMIT_SEARCH are set high for the run (see below)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
PORT=${SCHEMATHESIS_PORT:-18765}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-15}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-300}
SEED=${SCHEMATHESIS_SEED:-2020}
# A village cadre (every case endpoint) and a department account (医保: its own clues, and a
# refusal everywhere else, whose shape the schema must describe too).
SCHEMATHESIS_USERS=${SCHEMATHESIS_USERS:-cadre yibao}
WORKDIR=$(mktemp -d /tmp/schemathesis.XXXXXX)
SERVER_PID=""

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
cleanup() {
    stop_server
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

# A process-local database: never the developer's db.sqlite3.
if [[ -n "${SCHEMATHESIS_DATABASE_URL:-}" ]]; then
    export DATABASE_URL="$SCHEMATHESIS_DATABASE_URL"
    if [[ "$DATABASE_URL" == postgres* ]]; then
        db_name=${DATABASE_URL##*/}
        server_url=${DATABASE_URL%/*}/postgres
        "$PY" - "$server_url" "$db_name" <<'EOF'
import sys

import psycopg2

connection = psycopg2.connect(sys.argv[1])
connection.autocommit = True
with connection.cursor() as cursor:
    cursor.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
    cursor.execute(f'CREATE DATABASE "{sys.argv[2]}"')
EOF
    fi
else
    export DATABASE_URL="sqlite:///$WORKDIR/api.sqlite3"
fi
# Tasks (if any endpoint enqueues one) run in-process: no worker is started here.
unset CELERY_BROKER_URL
export DJANGO_ENV=development MEDIA_ROOT="$WORKDIR/media"
# The run makes hundreds of API requests a minute as one user, far above RATE_LIMIT_API and
# RATE_LIMIT_SEARCH (a 429 is the point of a limit, not a finding): the limits themselves are
# tested in tests/povertyapp/test_rate_limits.py.
export RATE_LIMIT_API=100000/m RATE_LIMIT_SEARCH=100000/m

echo "schemathesis: building the demo county (300 households) in ${DATABASE_URL%%:*}"
"$PY" manage.py migrate --noinput >"$WORKDIR/migrate.log" 2>&1 || {
    cat "$WORKDIR/migrate.log"
    exit 1
}
"$PY" manage.py seed_demo --households 300 --seed "$SEED" >"$WORKDIR/seed.log" 2>&1 || {
    cat "$WORKDIR/seed.log"
    exit 1
}

echo "schemathesis: serving on 127.0.0.1:$PORT (gunicorn)"
"$ROOT/.venv/bin/gunicorn" povertyapp.wsgi:application --bind "127.0.0.1:$PORT" \
    --workers 2 --timeout 120 --access-logfile "$WORKDIR/access.log" \
    >"$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/schema/" \
        -H "Accept: application/vnd.oai.openapi+json" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "schemathesis: the server did not start"
        cat "$WORKDIR/server.log"
        exit 1
    fi
    sleep 1
done

status=0
for USER in $SCHEMATHESIS_USERS; do
TOKEN=$(curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/auth/token/" \
    -d username="$USER" -d password=Huangping@2020 |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])')
if [[ -z "$TOKEN" ]]; then
    echo "schemathesis: no token for $USER"
    exit 1
fi
# The schema is served to an authenticated user; fetch it once so a failure here is explicit.
curl -fsS -o "$WORKDIR/schema.json" -H "Authorization: Token $TOKEN" \
    -H "Accept: application/vnd.oai.openapi+json" "http://127.0.0.1:$PORT/api/v1/schema/"

# One schemathesis worker: with --workers 2, schemathesis 4.32.5's coverage phase shares an LRU
# cache between its threads (schemathesis/core/cache/bounded.py: `__setitem__` stores a key, then
# moves it to the end, while the other thread may evict it in between) and, on a loaded machine,
# dies of a KeyError after reporting "No issues found" (CI of e74f906). The server still runs two
# gunicorn workers; the time budget, not the worker count, bounds the run.
echo "schemathesis as $USER: ${MAX_EXAMPLES} examples per operation, at most ${MAX_TIME} s, seed ${SEED}"
"$ROOT/.venv/bin/schemathesis" --no-color run "http://127.0.0.1:$PORT/api/v1/schema/" \
    --header "Authorization: Token $TOKEN" \
    --header "Accept-Language: zh-hans" \
    --exclude-path-regex '^/api/v1/auth/token/logout' \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --seed "$SEED" \
    --workers 1 \
    --request-timeout 60 \
    --generation-database none \
    --warnings off || status=$?
done

stop_server
if [[ $status -ne 0 ]]; then
    echo "schemathesis: FAILED (exit $status): its findings or errors are above; last server errors:"
    grep -n -A30 "Traceback\|Internal Server Error" "$WORKDIR/server.log" | tail -80 || true
    exit "$status"
fi
echo "schemathesis: passed"
