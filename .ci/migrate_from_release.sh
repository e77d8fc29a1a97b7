#!/usr/bin/env bash
# Migrating the last release's database forward keeps every row (issue 18).
#
# The previous release's code (RELEASE below, taken with `git archive`, so the repository is not
# touched) migrates a fresh database and builds a small demo county in it; every table's rows are
# counted (.ci/table_counts.py, by introspection); then the current tree migrates that same
# database and the rows are counted again. Any table that lost rows, gained rows or disappeared
# fails the run, with the table of counts before and after printed; only Django's bookkeeping
# (the migration log, content types, permissions) may gain rows, and that is printed too.
# Both runs use the current virtualenv's python.
#
# Done on a throwaway SQLite file, then on PostgreSQL when it answers (or is required).
#
# Environment:
#   MIGRATE_PG_SERVER   PostgreSQL server URL, default postgres://postgres@127.0.0.1:5432
#   MIGRATE_PG_DB       database created and dropped there, default l18d_migrate
#   MIGRATE_PG          "required": fail when PostgreSQL does not answer; "skip": SQLite only;
#                       default: PostgreSQL too when it answers
#   MIGRATE_HOUSEHOLDS  demo size, default 300;  MIGRATE_SEED  default 2020
set -euo pipefail

# The last release: the main that was resolved before issue 18's moves (layout of one app per
# concern not yet begun). Move it forward when a release is cut.
RELEASE=3258b70

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
HOUSEHOLDS=${MIGRATE_HOUSEHOLDS:-300}
SEED=${MIGRATE_SEED:-2020}
PG_SERVER=${MIGRATE_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
PG_DB=${MIGRATE_PG_DB:-l18d_migrate}
WORKDIR=$(mktemp -d /tmp/migrate-from-release.XXXXXX)
PG_CREATED=""

cleanup() {
    if [[ -n "$PG_CREATED" ]]; then
        psql "$PG_SERVER/postgres" -q -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

# Nothing from the caller's environment may pick the database or the services.
unset DATABASE_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND REAL_CELERY_WORKER DJANGO_ENV
# Files the release's and this tree's commands store (the demo's, if any) stay in this run's
# folder: never below the checkout's media/, where a test session beside this one (.ci/run's
# other lane) would find them and fail.
export MEDIA_ROOT="$WORKDIR/media"

git -C "$ROOT" cat-file -e "$RELEASE^{commit}" || {
    echo "The release commit $RELEASE is not in this clone (a shallow clone?)"
    exit 1
}
mkdir "$WORKDIR/release"
git -C "$ROOT" archive "$RELEASE" | tar -x -C "$WORKDIR/release"
echo "Release $RELEASE ($(git -C "$ROOT" log -1 --format='%h %s' "$RELEASE")) in $WORKDIR/release"

# check_forward NAME DATABASE_URL: the release builds the demo, the current tree migrates it.
check_forward() {
    local name=$1 url=$2
    echo
    echo "== $name: the release migrates and seeds $HOUSEHOLDS households"
    # (A chain of &&: errexit does not reach inside a subshell followed by ||.)
    (
        cd "$WORKDIR/release" &&
            DATABASE_URL="$url" "$PY" manage.py migrate --noinput >"$WORKDIR/$name-release.log" &&
            DATABASE_URL="$url" "$PY" manage.py seed_demo --households "$HOUSEHOLDS" \
                --seed "$SEED" >>"$WORKDIR/$name-release.log" 2>&1
    ) || {
        cat "$WORKDIR/$name-release.log"
        echo "The release could not build its demo database"
        return 1
    }
    "$PY" "$ROOT/.ci/table_counts.py" count "$url" "$WORKDIR/$name-before.json"
    echo "== $name: the current tree migrates the release's database"
    DATABASE_URL="$url" "$PY" "$ROOT/manage.py" migrate --noinput
    "$PY" "$ROOT/.ci/table_counts.py" count "$url" "$WORKDIR/$name-after.json"
    "$PY" "$ROOT/.ci/table_counts.py" compare "$WORKDIR/$name-before.json" \
        "$WORKDIR/$name-after.json"
    # Moved models keep their content types (renamed, not recreated): none may name a model
    # that no longer exists, or permissions and the admin log would point at nothing.
    DATABASE_URL="$url" "$PY" "$ROOT/manage.py" shell -c "
from django.contrib.contenttypes.models import ContentType
stale = [f'{c.app_label}.{c.model}' for c in ContentType.objects.order_by('pk') if c.model_class() is None]
assert not stale, f'content types naming no model: {stale}'
print('Every content type names a model of this tree.')"
    # And the moved rounds read back as the release wrote them: each round's stored figures
    # equal their rederivation from the baseline and the events (exit code 1 otherwise).
    DATABASE_URL="$url" "$PY" "$ROOT/manage.py" check_round_figures
    # Encryption at rest (issue 14): the migration encrypted the release's personal data. No
    # plain 18-character ID number is left in the member tables' raw columns, every value is
    # an encrypted one, its blind index is filled, and the model reads the numbers back.
    DATABASE_URL="$url" "$PY" "$ROOT/manage.py" shell -c "
import re
from django.db import connection
from households.models import Member
from povertyapp import crypto
plain = re.compile(r'[0-9]{17}[0-9Xx]')
with connection.cursor() as cursor:
    for table in ('households_member', 'households_historicalmember'):
        cursor.execute(f'SELECT id_number, id_number_index, illness_name, disability_certificate FROM {table}')
        rows = cursor.fetchall()
        assert rows, f'{table} is empty'
        for number, index, illness, certificate in rows:
            assert not plain.search(number), f'{table}: a plain ID number is left'
            assert number == '' or number.startswith(crypto.PREFIX), f'{table}: a plain value'
            assert index == crypto.blind_index(number), f'{table}: a wrong blind index'
            for value in (illness, certificate):
                assert value == '' or value.startswith(crypto.PREFIX), f'{table}: plain health data'
    cursor.execute('SELECT bank_account FROM households_household')
    assert all(not v or v.startswith(crypto.PREFIX) for (v,) in cursor.fetchall())
member = Member.objects.exclude(id_number='').first()
assert plain.fullmatch(member.id_number) and Member.objects.with_id_number(member.id_number).exists()
print(f'Personal data encrypted: no plain ID number left in {len(rows)} history rows and the members.')"
    # The county key (issue 19): the migration filled every household's and member's county
    # from its village, set-wise; none disagrees (one query).
    DATABASE_URL="$url" "$PY" "$ROOT/manage.py" shell -c "
from households import counties
from households.models import Household, Member
stale = counties.stale()
assert Household.objects.exists() and Member.objects.exists()
assert stale == (0, 0), f'households, members with a stale county key: {stale}'
print(f'County key filled: {Household.objects.count()} households, {Member.objects.count()} members.')"
}

check_forward sqlite "sqlite:///$WORKDIR/release.sqlite3"

case "${MIGRATE_PG:-}" in
skip)
    echo "MIGRATE_PG=skip: PostgreSQL not checked"
    ;;
*)
    if psql "$PG_SERVER/postgres" -q -c "SELECT 1" >/dev/null 2>&1; then
        psql "$PG_SERVER/postgres" -v ON_ERROR_STOP=1 -q \
            -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" \
            -c "CREATE DATABASE \"$PG_DB\""
        PG_CREATED=1
        check_forward postgresql "$PG_SERVER/$PG_DB"
    elif [[ "${MIGRATE_PG:-}" == required ]]; then
        echo "PostgreSQL does not answer at $PG_SERVER (MIGRATE_PG=required)"
        exit 1
    else
        echo "PostgreSQL does not answer at $PG_SERVER: checked on SQLite only"
    fi
    ;;
esac
echo
echo "Migrating the release's database forward kept every row."
