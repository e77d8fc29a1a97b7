#!/usr/bin/env bash
# The replica tests against a real PostgreSQL streaming replica (issue 19).
#
# Starts, in a temporary directory and as the postgres user, a primary cluster (initdb) on
# 127.0.0.1:$REPLICA_PRIMARY_PORT and a hot standby of it on $REPLICA_STANDBY_PORT, made by
# `pg_basebackup -R` (streaming replication, recovery settings written by pg_basebackup); runs
# the tests marked `replica` with DATABASE_URL on the primary and DATABASE_REPLICA_URL on the
# standby (pytest-django creates the test database on the primary; the standby receives it
# through replication); stops both clusters and removes the directory on exit. The shared
# cluster on 5432 is never touched. Fails when a replica test was skipped or none ran.
#
# Environment (defaults in brackets): REPLICA_PRIMARY_PORT [5433], REPLICA_STANDBY_PORT [5434],
# REPLICA_DB_NAME [poverty_replica], REPLICA_PG_BIN [the newest /usr/lib/postgresql/*/bin].
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PRIMARY_PORT=${REPLICA_PRIMARY_PORT:-5433}
STANDBY_PORT=${REPLICA_STANDBY_PORT:-5434}
DB_NAME=${REPLICA_DB_NAME:-poverty_replica}
PG_BIN=${REPLICA_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
WORKDIR=$(mktemp -d /tmp/ci-replica.XXXXXX)
STARTED=$(date +%s)

as_postgres() {
    # PostgreSQL's server tools refuse to run as root.
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_cluster() {
    local data=$1
    if [[ -f "$data/postmaster.pid" ]]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null || true
    fi
}

cleanup() {
    local status=$?
    stop_cluster "$WORKDIR/standby"
    stop_cluster "$WORKDIR/primary"
    if [[ $status -ne 0 ]]; then
        for log in primary standby; do
            if [[ -s "$WORKDIR/$log.log" ]]; then
                echo "--- last lines of the $log's log ---"
                tail -20 "$WORKDIR/$log.log"
            fi
        done
    fi
    rm -rf "$WORKDIR"
    exit "$status"
}
trap cleanup EXIT

for port in "$PRIMARY_PORT" "$STANDBY_PORT"; do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        echo "Port $port already has a PostgreSQL server: set REPLICA_PRIMARY_PORT/REPLICA_STANDBY_PORT"
        exit 1
    fi
done
if [[ $(id -u) == 0 ]]; then
    chown postgres:postgres "$WORKDIR"
fi

echo "primary: initdb, then start on 127.0.0.1:$PRIMARY_PORT  (+$(($(date +%s) - STARTED))s)"
as_postgres "$PG_BIN/initdb" -D "$WORKDIR/primary" --auth=trust --username=postgres \
    --encoding=UTF8 --no-sync >/dev/null
# wal_level=replica and wal senders are the defaults since PostgreSQL 10; set for clarity.
# fsync off: a throw-away cluster (not full_page_writes, which a base backup needs).
COMMON="-c listen_addresses=127.0.0.1 -k $WORKDIR -c fsync=off -c synchronous_commit=off"
as_postgres "$PG_BIN/pg_ctl" -D "$WORKDIR/primary" -l "$WORKDIR/primary.log" -w -t 60 \
    -o "-p $PRIMARY_PORT $COMMON -c wal_level=replica -c max_wal_senders=4" start >/dev/null

echo "standby: pg_basebackup -R from the primary, start on 127.0.0.1:$STANDBY_PORT  (+$(($(date +%s) - STARTED))s)"
as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -D "$WORKDIR/standby" -R -X stream --checkpoint=fast --no-sync
# hot_standby_feedback: the primary's clean-up waits for the standby's running reads, so a
# test's read is not cancelled by a conflict.
as_postgres "$PG_BIN/pg_ctl" -D "$WORKDIR/standby" -l "$WORKDIR/standby.log" -w -t 60 \
    -o "-p $STANDBY_PORT $COMMON -c hot_standby=on -c hot_standby_feedback=on" start >/dev/null
for _ in $(seq 1 30); do
    streaming=$(psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -Atc \
        "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
    [[ "$streaming" == 1 ]] && break
    sleep 1
done
if [[ "$streaming" != 1 ]]; then
    echo "The standby is not streaming from the primary"
    exit 1
fi
echo "standby streaming: recovery=$(psql -h 127.0.0.1 -p "$STANDBY_PORT" -U postgres \
    -d postgres -Atc 'SELECT pg_is_in_recovery()')  (+$(($(date +%s) - STARTED))s)"

# The replica tests; DATABASE_REPLICA_URL turns REPLICA_READS on. Celery stays eager.
(
    unset CELERY_BROKER_URL CELERY_RESULT_BACKEND REAL_CELERY_WORKER DJANGO_ENV
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PRIMARY_PORT/$DB_NAME"
    export DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$STANDBY_PORT/$DB_NAME"
    export REPLICA_TESTS=1 CI=true
    "$ROOT/.venv/bin/python" -m pytest -q -rs -p tests.celery_eager -m replica \
        tests/povertyapp/test_replica_streaming.py
) 2>&1 | tee "$WORKDIR/pytest.log"
if grep -q "SKIPPED" "$WORKDIR/pytest.log" || ! grep -q " passed" "$WORKDIR/pytest.log" \
    || grep -Eq "[0-9]+ (failed|error)" "$WORKDIR/pytest.log"; then
    echo "The replica tests did not all run and pass"
    exit 1
fi
echo "replica tests passed  (+$(($(date +%s) - STARTED))s)"
