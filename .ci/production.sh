#!/usr/bin/env bash
# The production pass: README's "Production" steps, from this checkout, then a smoke test.
#
# With DJANGO_ENV=production and the production variables of the README (a random SECRET_KEY,
# ALLOWED_HOSTS, a fresh PostgreSQL database, Redis as the broker, FILE_SERVING=nginx):
# compilemessages, collectstatic, check --deploy --fail-level WARNING, migrate, the demo county
# (300 households); then the five processes of production: gunicorn with the project's
# gunicorn.conf.py on 127.0.0.1:$PROD_PORT, a Celery worker, Celery beat, and nginx with the
# documented site file (deploy/nginx-site.conf) on https://127.0.0.1:$PROD_HTTPS_PORT (a
# certificate made for the run) and http://127.0.0.1:$PROD_HTTP_PORT. .ci/production_smoke.py
# then goes through nginx: it signs in as each demo role (with the second factor, for the roles
# that require one: TOTP devices with a key made for the run) and checks every menu page, static
# files, the API, the security headers, and a ledger exported as a job by the worker and
# downloaded through the file door (nginx's internal location). Everything is stopped, the
# database dropped and the Redis db emptied on exit, whatever happened.
#
# Environment (defaults in brackets): PROD_DB_NAME [poverty_ci_prod], PROD_PORT [8130],
# PROD_HTTPS_PORT [8131], PROD_HTTP_PORT [8133], PROD_REDIS_DB [2],
# PG_SERVER [postgres://postgres@127.0.0.1:5432].
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
PROD_DB_NAME=${PROD_DB_NAME:-poverty_ci_prod}
PROD_PORT=${PROD_PORT:-8130}
PROD_HTTPS_PORT=${PROD_HTTPS_PORT:-8131}
PROD_HTTP_PORT=${PROD_HTTP_PORT:-8133}
PROD_REDIS_DB=${PROD_REDIS_DB:-2}
WORKDIR=$(mktemp -d /tmp/production-pass.XXXXXX)
# nginx's workers (not root) read the files the application hands them: MEDIA_ROOT is under here.
chmod 755 "$WORKDIR"
PIDS=()

drop_database() {
    psql "$PG_SERVER/postgres" -v ON_ERROR_STOP=1 -q \
        -c "DROP DATABASE IF EXISTS \"$PROD_DB_NAME\" WITH (FORCE)"
}
cleanup() {
    local status=$?
    if [[ -s "$WORKDIR/nginx.pid" ]]; then
        kill -QUIT "$(cat "$WORKDIR/nginx.pid")" 2>/dev/null || true
    fi
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $status -ne 0 ]]; then
        for log in gunicorn worker beat nginx-error; do
            if [[ -s "$WORKDIR/$log.log" ]]; then
                echo "--- last lines of $log.log ---"
                tail -40 "$WORKDIR/$log.log"
            fi
        done
    fi
    drop_database >/dev/null 2>&1 || true
    redis-cli -h 127.0.0.1 -n "$PROD_REDIS_DB" flushdb >/dev/null 2>&1 || true
    rm -rf "$WORKDIR"
    exit "$status"
}
trap cleanup EXIT

# The production environment, as README.md "Production" documents it (host and database names
# of this machine). Nothing else from the caller's environment.
unset DJANGO_DEBUG FIELD_ENCRYPTION_KEYS FIELD_ENCRYPTION_PLAINTEXT CONN_MAX_AGE CACHE_URL SECURE_SSL_REDIRECT CELERY_RESULT_BACKEND
export DJANGO_ENV=production
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')
export SECRET_KEY
# Encryption at rest (issue 14): a key file outside the database, as docs/operations.md says.
"$PY" -c 'import base64, os; print("k1:" + base64.b64encode(os.urandom(32)).decode())' \
    >"$WORKDIR/field-keys"
chmod 600 "$WORKDIR/field-keys"
export FIELD_ENCRYPTION_KEY_FILE="$WORKDIR/field-keys"
BLIND_INDEX_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
export BLIND_INDEX_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export CSRF_TRUSTED_ORIGINS="https://127.0.0.1:$PROD_HTTPS_PORT,https://localhost:$PROD_HTTPS_PORT"
export DATABASE_URL="$PG_SERVER/$PROD_DB_NAME"
export CELERY_BROKER_URL="redis://127.0.0.1:6379/$PROD_REDIS_DB"
# The cache shared by the gunicorn workers (rate limits); production refuses to start without.
export CACHE_URL="redis://127.0.0.1:6379/$PROD_REDIS_DB"
export MEDIA_ROOT="$WORKDIR/media"
export FILE_SERVING=nginx
# Small enough that a ledger of the 300-household demo is written by the worker, as a job.
export LEDGER_JOB_THRESHOLD=50

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
# Production has no demo exemption from the second factor: the roles that require one get a
# TOTP device with a key made for the run; the smoke computes their codes from it.
TOTP_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(20))')
run "$PY" manage.py shell -c "
from django_otp.plugins.otp_totp.models import TOTPDevice
from povertyapp.models import User
from povertyapp.security import second_factor
for user in User.objects.filter(is_active=True):
    if second_factor.required(user):
        TOTPDevice.objects.create(user=user, name='TOTP', key='$TOTP_KEY', confirmed=True)
"

wait_for() {  # wait_for WHAT PID COMMAND...: until COMMAND succeeds, or the process died
    local what=$1 pid=$2
    shift 2
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then
            echo "production pass: $what is up"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    echo "production pass: $what did not start"
    return 1
}

echo "+ gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$PROD_PORT --workers 2"
"$ROOT/.venv/bin/gunicorn" --config gunicorn.conf.py --bind "127.0.0.1:$PROD_PORT" \
    --workers 2 >"$WORKDIR/gunicorn.log" 2>&1 &
PIDS+=($!)
wait_for gunicorn "${PIDS[-1]}" curl -fsS -o /dev/null -H "X-Forwarded-Proto: https" \
    "http://127.0.0.1:$PROD_PORT/accounts/login/"

echo "+ celery -A povertyapp worker -Q celery,heavy,rates --loglevel=INFO"
"$ROOT/.venv/bin/celery" -A povertyapp worker -Q celery,heavy,rates --loglevel=INFO --concurrency 1 \
    --hostname "production-pass@%h" >"$WORKDIR/worker.log" 2>&1 &
PIDS+=($!)
wait_for "the Celery worker" "${PIDS[-1]}" grep -q "ready\." "$WORKDIR/worker.log"

echo "+ celery -A povertyapp beat --loglevel=INFO"
"$ROOT/.venv/bin/celery" -A povertyapp beat --loglevel=INFO \
    --schedule "$WORKDIR/celerybeat-schedule" >"$WORKDIR/beat.log" 2>&1 &
PIDS+=($!)
wait_for "Celery beat" "${PIDS[-1]}" grep -q "beat: Starting" "$WORKDIR/beat.log"

# nginx with the documented site file, filled in for this machine; a certificate for the run.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$WORKDIR/tls.key" -out "$WORKDIR/tls.crt" 2>/dev/null
sed -e "s|@SERVER_NAME@|127.0.0.1 localhost|" \
    -e "s|@HTTP_LISTEN@|127.0.0.1:$PROD_HTTP_PORT|" \
    -e "s|@HTTPS_LISTEN@|127.0.0.1:$PROD_HTTPS_PORT|" \
    -e "s|@CERTIFICATE@|$WORKDIR/tls.crt|" -e "s|@CERTIFICATE_KEY@|$WORKDIR/tls.key|" \
    -e "s|@UPSTREAM@|127.0.0.1:$PROD_PORT|" -e "s|@MEDIA_ROOT@|$MEDIA_ROOT/|" \
    -e "s|@ACCESS_LOG@|$WORKDIR/nginx-access.log|" \
    deploy/nginx-site.conf >"$WORKDIR/site.conf"
if grep -v "^[[:space:]]*#" "$WORKDIR/site.conf" | grep -q "@[A-Z_]*@"; then
    echo "production pass: deploy/nginx-site.conf has a value this pass does not fill in"
    exit 1
fi
mkdir -p "$WORKDIR/nginx-tmp" "$MEDIA_ROOT"
cat >"$WORKDIR/nginx.conf" <<NGINX
worker_processes 1;
pid $WORKDIR/nginx.pid;
error_log $WORKDIR/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log $WORKDIR/nginx-access.log;
    client_body_temp_path $WORKDIR/nginx-tmp/body;
    proxy_temp_path $WORKDIR/nginx-tmp/proxy;
    fastcgi_temp_path $WORKDIR/nginx-tmp/fastcgi;
    uwsgi_temp_path $WORKDIR/nginx-tmp/uwsgi;
    scgi_temp_path $WORKDIR/nginx-tmp/scgi;
    include $WORKDIR/site.conf;
}
NGINX
echo "+ nginx (deploy/nginx-site.conf)"
nginx -t -q -c "$WORKDIR/nginx.conf"
nginx -c "$WORKDIR/nginx.conf"
wait_for nginx "$$" curl -fsS -o /dev/null --cacert "$WORKDIR/tls.crt" \
    "https://127.0.0.1:$PROD_HTTPS_PORT/accounts/login/"

run "$PY" .ci/production_smoke.py --base-url "https://127.0.0.1:$PROD_HTTPS_PORT" \
    --cafile "$WORKDIR/tls.crt" --http-url "http://127.0.0.1:$PROD_HTTP_PORT" --job-download \
    --totp-key "$TOTP_KEY"
# 403 and 404 are logged with their tracebacks by Django; a 500 is what must not happen.
if grep -q "Internal Server Error\|Server error [0-9a-f]" "$WORKDIR/gunicorn.log"; then
    echo "production pass: the server answered a request with 500:"
    grep -A30 "Internal Server Error\|Server error [0-9a-f]" "$WORKDIR/gunicorn.log" | head -80
    exit 1
fi
if ! grep -q "run_job_task\[.*\] succeeded" "$WORKDIR/worker.log"; then
    echo "production pass: the Celery worker ran no job"
    exit 1
fi
echo "production pass: passed"
