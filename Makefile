# The two commands of the README contract, and the CI steps they are made of.
# `make demo` and `make test` set everything up themselves (virtualenv, dependencies).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_HOUSEHOLDS ?= 5000
DEMO_SEED ?= 2020
HOST ?= 127.0.0.1:8000

.PHONY: demo test install lint typecheck migrations-check pytest serve worker beat lock \
        schemathesis bench messages vendor clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## make demo: set up, migrate, build the demo county, print the logins, serve on :8000.
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --households $(DEMO_HOUSEHOLDS) --seed $(DEMO_SEED)
	@echo "打开 http://$(HOST)/ （Ctrl-C 停止）"
	$(PY) manage.py runserver $(HOST)

## make test: set up, lint, check migrations, run the whole suite.
test: install lint migrations-check pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy povertyapp households assistance inspections

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

pytest: install
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

## schemathesis against a running server (see .ci/run).
schemathesis: install
	bash .ci/schemathesis.sh

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
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles artifacts
