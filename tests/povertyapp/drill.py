"""The fault drills' own services: a PostgreSQL cluster, a redis-server, the app's processes.

Everything listens on 127.0.0.1, on the drills' own ports (PostgreSQL 55440-55449, Redis
6390-6399, HTTP 8140-8149: overridable with FAULT_DRILL_PG_PORTS / _REDIS_PORTS / _HTTP_PORTS as
"first-last"), never on the shared servers; every process and data directory is removed when
the drill ends, whatever happened (the fixtures' finally blocks call `stop`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("FAULT_DRILL_PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def _ports(name: str, default: str) -> range:
    first, last = os.environ.get(name, default).split("-")
    return range(int(first), int(last) + 1)


def free_port(name: str, default: str) -> int:
    for port in _ports(name, default):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {name}={os.environ.get(name, default)}")


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except Exception:  # not up yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL's tools refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PgCluster:
    """A throw-away PostgreSQL cluster: initdb in a temporary directory, trust auth."""

    def __init__(self) -> None:
        self.port = free_port("FAULT_DRILL_PG_PORTS", "55440-55449")
        self.directory = Path(tempfile.mkdtemp(prefix="fault-drill-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def _ctl(self, *arguments: str) -> None:
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "30",
                *arguments,
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._ctl("-o", options, "start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with suppress(subprocess.SubprocessError):
                self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database
        )
        connection.autocommit = True
        return connection

    def execute(self, sql: str, database: str = "postgres") -> None:
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def fetch(self, sql: str, parameters: tuple[Any, ...] = (), database: str = "postgres") -> Any:
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters)
                return cursor.fetchall()
        finally:
            connection.close()


class RedisServer:
    """A redis-server of its own, without persistence; stopped and started at will."""

    def __init__(self) -> None:
        self.port = free_port("FAULT_DRILL_REDIS_PORTS", "6390-6399")
        self.directory = Path(tempfile.mkdtemp(prefix="fault-drill-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")

        wait_for(answers, timeout=10, what="redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class AppProcess:
    """A process of the app (web server, worker, a script) with the drill's environment."""

    def __init__(self, arguments: list[str], environment: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = log.open("ab")
        self.process = subprocess.Popen(
            arguments,
            cwd=ROOT,
            env=environment,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        self.handle.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the process group (a worker's or gunicorn's children too)."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.handle.close()


def app_environment(*, database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND",
            "DJANGO_ENV",
            "REAL_CELERY_WORKER",
            "CACHE_URL",
        )
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="povertyapp.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return environment


def run_script(environment: dict[str, str], *arguments: str, timeout: float = 60) -> str:
    """Run tests/povertyapp/drill_manage.py (setup, enqueue, sweep) and return its output."""
    result = subprocess.run(
        [PYTHON, "-m", "tests.povertyapp.drill_manage", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"drill_manage {arguments} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def start_worker(environment: dict[str, str], log: Path, name: str) -> AppProcess:
    worker = AppProcess(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "tests.povertyapp.drill_jobs",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--hostname",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        environment,
        log,
    )
    wait_for(lambda: "ready." in worker.output(), timeout=40, what=f"worker {name}")
    return worker


@contextmanager
def processes() -> Iterator[list[AppProcess]]:
    """Collects the processes a drill starts; all are killed when it ends."""
    started: list[AppProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


def python() -> str:
    return PYTHON if Path(PYTHON).exists() else sys.executable
