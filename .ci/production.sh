#!/usr/bin/env bash
# The production pass: README's "Production" steps, from this checkout, then a smoke test.
#
# With DJANGO_ENV=production and the production variables of the README (a random SECRET_KEY,
# ALLOWED_HOSTS, a fresh PostgreSQL database, Redis as the broker): compilemessages,
# collectstatic, check --deploy --fail-level WARNING, migrate, the demo county (300 households),
# gunicorn with the project's gunicorn.conf.py on 127.0.0.1:$PROD_PORT, then
# .ci/production_smoke.py signs in as each demo role and checks every menu page, static files,
# the API and the security headers. The server is stopped, the database dropped and the Redis
# db emptied on exit, whatever happened.
#
# Environment (defaults in brackets): PROD_DB_NAME [poverty_ci_prod], PROD_PORT [8130],
# PROD_REDIS_DB [2], PG_SERVER [postgres://postgres@127.0.0.1:5432].
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
PROD_DB_NAME=${PROD_DB_NAME:-poverty_ci_prod}
PROD_PORT=${PROD_PORT:-8130}
PROD_REDIS_DB=${PROD_REDIS_DB:-2}
WORKDIR=$(mktemp -d /tmp/production-pass.XXXXXX)
SERVER_PID=""

drop_database() {
    psql "$PG_SERVER/postgres" -v ON_ERROR_STOP=1 -q \
        -c "DROP DATABASE IF EXISTS \"$PROD_DB_NAME\" WITH (FORCE)"
}
cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -s "$WORKDIR/gunicorn.log" ]]; then
        echo "--- last lines of gunicorn's log ---"
        tail -60 "$WORKDIR/gunicorn.log"
    fi
    drop_database >/dev/null 2>&1 || true
    redis-cli -h 127.0.0.1 -n "$PROD_REDIS_DB" flushdb >/dev/null 2>&1 || true
    rm -rf "$WORKDIR"
    exit "$status"
}
trap cleanup EXIT

# The production environment, as README.md "Production" documents it (host and database names
# of this machine). Nothing else from the caller's environment.
unset DJANGO_DEBUG CONN_MAX_AGE CACHE_URL SECURE_SSL_REDIRECT CELERY_RESULT_BACKEND
export DJANGO_ENV=production
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export CSRF_TRUSTED_ORIGINS="https://127.0.0.1:$PROD_PORT,https://localhost:$PROD_PORT"
export DATABASE_URL="$PG_SERVER/$PROD_DB_NAME"
export CELERY_BROKER_URL="redis://127.0.0.1:6379/$PROD_REDIS_DB"
export MEDIA_ROOT="$WORKDIR/media"

echo "production pass: a fresh database $PROD_DB_NAME, Redis db $PROD_REDIS_DB, port $PROD_PORT"
drop_database
psql "$PG_SERVER/postgres" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$PROD_DB_NAME\""
redis-cli -h 127.0.0.1 -n "$PROD_REDIS_DB" flushdb >/dev/null

run() {
    echo "+ $*" >&2
    "$@"
}
run "$PY" manage.py compilemessages --ignore=.venv >/dev/null
run "$PY" manage.py collectstatic --noinput
run "$PY" manage.py check --deploy --fail-level WARNING
run "$PY" manage.py migrate --noinput >"$WORKDIR/migrate.log" || {
    cat "$WORKDIR/migrate.log"
    exit 1
}
run "$PY" manage.py seed_demo --households 300 --seed 2020 >"$WORKDIR/seed.log" || {
    cat "$WORKDIR/seed.log"
    exit 1
}

echo "+ gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$PROD_PORT --workers 2"
"$ROOT/.venv/bin/gunicorn" --config gunicorn.conf.py --bind "127.0.0.1:$PROD_PORT" \
    --workers 2 >"$WORKDIR/gunicorn.log" 2>&1 &
SERVER_PID=$!
ready=""
for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null -H "X-Forwarded-Proto: https" \
        "http://127.0.0.1:$PROD_PORT/accounts/login/" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 1
done
if [[ -z "$ready" ]]; then
    echo "production pass: gunicorn did not start"
    exit 1
fi

run "$PY" .ci/production_smoke.py --base-url "http://127.0.0.1:$PROD_PORT"
# 403 and 404 are logged with their tracebacks by Django; a 500 is what must not happen.
if grep -q "Internal Server Error\|Server error [0-9a-f]" "$WORKDIR/gunicorn.log"; then
    echo "production pass: the server answered a request with 500:"
    grep -A30 "Internal Server Error\|Server error [0-9a-f]" "$WORKDIR/gunicorn.log" | head -80
    exit 1
fi
echo "production pass: passed"
