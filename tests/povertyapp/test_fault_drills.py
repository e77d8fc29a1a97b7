"""Fault drills: the app against its own PostgreSQL cluster, redis-server, gunicorn and Celery
workers, with faults injected for real (issue 12, part 4). Marked `fault_drill` and skipped
unless FAULT_DRILLS=1 (`.ci/run` step 6 runs them):

    FAULT_DRILLS=1 .venv/bin/python -m pytest -q -p tests.celery_eager -m fault_drill

- broker down when a job starts: no 500, the job stays queued; the broker returns, the sweep
  sends it, a real worker runs it once;
- worker SIGKILLed mid-job: the sweep retries the job (its heartbeat stopped), a new worker
  completes it; the job's side effect happened exactly once;
- database restarted under a running gunicorn: the first request after answers 200
  (CONN_HEALTH_CHECKS).

The oversized and hostile uploads on every upload path are an ordinary test
(tests/povertyapp/test_uploads.py). Every drill is bounded (timeouts below 60 s), listens on
127.0.0.1 only, and kills its processes and removes its data directories in finally blocks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.povertyapp import drill

pytestmark = [
    pytest.mark.fault_drill,
    pytest.mark.skipif(
        os.environ.get("FAULT_DRILLS") != "1",
        reason="fault drill: starts its own PostgreSQL, Redis, gunicorn and workers; "
        "run with FAULT_DRILLS=1 (.ci/run step 6)",
    ),
]

COUNTY_CODE = "522622000000"
TEMPLATE = "drill_template"


@pytest.fixture(scope="module")
def cluster() -> Iterator[drill.PgCluster]:
    """One cluster for the drills of this module; the migrated schema is a template database
    each drill copies (migrating once, not per drill)."""
    pg = drill.PgCluster()
    try:
        pg.start()
        pg.execute(f"CREATE DATABASE {TEMPLATE}")
        environment = drill.app_environment(
            database_url=pg.url(TEMPLATE), broker_url="redis://127.0.0.1:1/0"
        )
        subprocess.run(
            [drill.PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=drill.ROOT,
            env=environment,
            check=True,
            capture_output=True,
            timeout=300,
        )
        drill.run_script(environment, "setup")
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def redis_server() -> Iterator[drill.RedisServer]:
    server = drill.RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def _database(cluster: drill.PgCluster, name: str) -> str:
    cluster.execute(f"DROP DATABASE IF EXISTS {name}")
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return name


def _job(cluster: drill.PgCluster, database: str, job_id: int) -> dict[str, Any]:
    columns = ("status", "attempts", "message", "error", "dispatched_at", "progress")
    (row,) = cluster.fetch(
        f"SELECT {', '.join(columns)} FROM povertyapp_job WHERE id = %s", (job_id,), database
    )
    return dict(zip(columns, row, strict=True))


def _start_web(environment: dict[str, str], log: Path) -> tuple[drill.AppProcess, str]:
    port = drill.free_port("FAULT_DRILL_HTTP_PORTS", "8140-8149")
    web = drill.AppProcess(
        [
            str(drill.ROOT / ".venv" / "bin" / "gunicorn"),
            "povertyapp.wsgi",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "30",
        ],
        environment,
        log,
    )
    base = f"http://127.0.0.1:{port}"
    drill.wait_for(
        lambda: requests.get(f"{base}/accounts/login/", timeout=2).status_code == 200,
        timeout=40,
        what="gunicorn",
    )
    return web, base


def _login(base: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": "county",
            "password": "Test-pass-123",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def _post(session: requests.Session, base: str, path: str, data: dict[str, str]) -> Any:
    return session.post(
        f"{base}{path}",
        data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/"},
        allow_redirects=False,
        timeout=30,
    )


def test_broker_down_when_a_job_starts(cluster, redis_server, tmp_path):
    database = _database(cluster, "drill_broker")
    environment = drill.app_environment(
        database_url=cluster.url(database),
        broker_url=redis_server.url,
        CONN_MAX_AGE="60",
        DJANGO_DEBUG="0",
        DRILL_EFFECTS_DIR=str(tmp_path),
    )
    with drill.processes() as started:
        web, base = _start_web(environment, tmp_path / "web.log")
        started.append(web)
        session = _login(base)
        redis_server.stop()

        began = time.monotonic()
        response = _post(session, base, "/households/quality/run/", {"region": COUNTY_CODE})
        took = time.monotonic() - began
        assert response.status_code == 302, web.output()[-3000:]
        assert took < 10, f"the request was held {took:.1f} s by the broker's absence"
        job_id = int(re.search(r"/jobs/(\d+)/", response.headers["Location"]).group(1))
        job = _job(cluster, database, job_id)
        assert (job["status"], job["attempts"], job["dispatched_at"]) == ("queued", 0, None)
        assert job["message"] == "已排队，等待后台服务恢复"
        page = session.get(f"{base}/jobs/{job_id}/", timeout=10)
        assert page.status_code == 200
        assert "已排队，等待后台服务恢复" in page.text

        redis_server.start()
        worker = drill.start_worker(environment, tmp_path / "worker.log", "drill-broker")
        started.append(worker)
        report = json.loads(
            drill.run_script({**environment, "JOB_DISPATCH_GRACE_SECONDS": "0"}, "sweep")
        )
        assert report == {"dispatched": [job_id], "retried": [], "failed": []}
        drill.wait_for(
            lambda: _job(cluster, database, job_id)["status"] == "succeeded",
            timeout=40,
            what="the job to succeed",
        )
        job = _job(cluster, database, job_id)
        assert (job["status"], job["attempts"], job["error"]) == ("succeeded", 1, "")
        assert job["dispatched_at"] is not None
        assert len(re.findall(r"run_job_task\[[^\]]+\] succeeded", worker.output())) == 1


def test_worker_killed_mid_job(cluster, redis_server, tmp_path):
    database = _database(cluster, "drill_worker")
    environment = drill.app_environment(
        database_url=cluster.url(database),
        broker_url=redis_server.url,
        DRILL_EFFECTS_DIR=str(tmp_path),
        DRILL_STEPS="30",
        DRILL_STEP_SECONDS="0.5",
        JOB_HEARTBEAT_SECONDS="1",
        JOB_HEARTBEAT_TIMEOUT_SECONDS="3",
    )
    effects = tmp_path / "effects-{}"
    with drill.processes() as started:
        first = drill.start_worker(environment, tmp_path / "worker-1.log", "drill-first")
        started.append(first)
        job_id = int(drill.run_script(environment, "enqueue"))
        drill.wait_for(
            lambda: _job(cluster, database, job_id)["progress"] >= 2,
            timeout=30,
            what="the job to be under way",
        )
        # While the worker lives, its heartbeat keeps the sweep away.
        alive = json.loads(drill.run_script(environment, "sweep"))
        assert alive == {"dispatched": [], "retried": [], "failed": []}
        first.kill()  # SIGKILL, mid-job: no chance to tidy up
        job = _job(cluster, database, job_id)
        assert (job["status"], job["attempts"]) == ("running", 1)

        second = drill.start_worker(environment, tmp_path / "worker-2.log", "drill-second")
        started.append(second)
        time.sleep(3.5)  # the heartbeat is now older than JOB_HEARTBEAT_TIMEOUT_SECONDS
        report = json.loads(drill.run_script(environment, "sweep"))
        assert report == {"dispatched": [job_id], "retried": [job_id], "failed": []}
        drill.wait_for(
            lambda: _job(cluster, database, job_id)["status"] == "succeeded",
            timeout=40,
            what="the retried job to succeed",
        )
        job = _job(cluster, database, job_id)
        assert (job["status"], job["attempts"], job["error"]) == ("succeeded", 2, "")
        # Started twice (killed once), completed exactly once.
        assert len((tmp_path / f"started-{job_id}").read_text().splitlines()) == 2
        assert len(Path(str(effects).format(job_id)).read_text().splitlines()) == 1
        # A later sweep finds nothing; nothing runs the job a third time.
        again = json.loads(drill.run_script(environment, "sweep"))
        assert again == {"dispatched": [], "retried": [], "failed": []}
        time.sleep(1)
        assert len(Path(str(effects).format(job_id)).read_text().splitlines()) == 1
        assert _job(cluster, database, job_id)["attempts"] == 2


def test_database_restart_costs_no_request_after_it(cluster, tmp_path):
    database = _database(cluster, "drill_database")
    environment = drill.app_environment(
        database_url=cluster.url(database),
        broker_url="redis://127.0.0.1:1/0",  # no broker needed: no job is started
        CONN_MAX_AGE="600",  # persistent connections: what a restart breaks
        DJANGO_DEBUG="0",
    )
    with drill.processes() as started:
        web, base = _start_web(environment, tmp_path / "web.log")
        started.append(web)
        session = _login(base)
        assert session.get(f"{base}/households/", timeout=10).status_code == 200

        cluster.restart()

        first = session.get(f"{base}/households/", timeout=20)
        assert first.status_code == 200, web.output()[-3000:]
        assert session.get(f"{base}/", timeout=20).status_code == 200
