# The two commands of the README contract, and the CI steps they are made of.
# `make demo` and `make test` set everything up themselves (virtualenv, dependencies).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_HOUSEHOLDS ?= 5000
DEMO_SEED ?= 2020
HOST ?= 127.0.0.1:8000

.PHONY: demo test install lint format-check typecheck migrations-check layers pytest serve worker \
        beat lock schemathesis production-pass bench messages compile-messages ci clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## make demo: set up, migrate, build the demo county, print the logins, serve on :8000.
demo: install compile-messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --households $(DEMO_HOUSEHOLDS) --seed $(DEMO_SEED)
	@echo "打开 http://$(HOST)/ （Ctrl-C 停止）"
	$(PY) manage.py runserver $(HOST)

## make test: set up, lint, type-check, check migrations, compile the catalogs, check the import
## layers, run the whole suite.
test: install lint typecheck migrations-check compile-messages layers pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format-check: install
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs over the apps (config: [tool.mypy] in pyproject.toml); zero errors.
typecheck: install
	$(VENV)/bin/mypy povertyapp households rounds assistance inspections monitoring years

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

# The floors and arrows between the apps, and no import cycle inside one: the contracts are
# [tool.importlinter] in pyproject.toml (issue 18). LINT_IMPORTS_ARGS: e.g. a cache directory
# of its own for a second run at the same time (.ci/run's lanes).
layers: install
	$(VENV)/bin/lint-imports $(LINT_IMPORTS_ARGS)

# `python -m pytest` puts the project on sys.path so that the plugin tests.celery_eager loads:
# it keeps Celery eager in every test but the `real_worker` ones, even when a broker is set.
# Exit code 5 (no tests collected) is reported and counted as a failure, never as a pass.
pytest: install
	@rc=0; $(PY) -m pytest -q -rs -p tests.celery_eager $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
		echo "pytest collected no tests (exit code 5): treated as a failure"; exit 1; \
	fi; \
	exit $$rc

## schemathesis: seed a small demo in its own database, serve it, fuzz /api/v1/ (see .ci/).
schemathesis: install
	bash .ci/schemathesis.sh

## production-pass: README's production steps on PostgreSQL, gunicorn, the smoke (.ci/).
production-pass: install
	bash .ci/production.sh

## The whole CI run (installs system packages with apt-get: needs root).
ci:
	bash .ci/run

## The seeding benchmark on PostgreSQL (creates and drops its own database).
bench: install
	$(PY) bench/seed.py $(BENCH_ARGS)

serve: install
	$(PY) manage.py runserver $(HOST)

worker: install
	$(VENV)/bin/celery -A povertyapp worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A povertyapp beat --loglevel=INFO

## Regenerate the lock from pyproject.toml (needs network access to PyPI).
lock:
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=static/vendor
	$(PY) manage.py makemessages -l en -d djangojs --ignore=.venv --ignore=static/vendor --ignore=staticfiles
	$(PY) manage.py compilemessages --ignore=.venv

# Compile the translation catalogs when there are any (needs gettext's msgfmt).
compile-messages: install
	@if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv; \
		else echo "msgfmt (gettext) is missing: translation catalogs not compiled"; fi; \
	fi

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles artifacts
