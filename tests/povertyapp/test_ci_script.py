"""`.ci/run` reports a run stopped by a signal as failed, never as passed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _signals_as_on_a_terminal() -> None:
    """The script's signals as a runner or a terminal leaves them. A test session started in the
    background of a non-interactive shell (CI's lanes) has SIGINT ignored, and bash cannot trap
    a signal ignored when it starts: ^C would then go unnoticed, passing the test by chance."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_run_stopped_by_a_signal_is_reported_as_failed(tmp_path, signum):
    """The script, copied alone into a folder of its own, stopped while it waits for its first
    service check (a stand-in `pg_isready` that waits): it must exit non-zero and say FAILED."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    started = tmp_path / "started"
    stub = stubs / "pg_isready"
    stub.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 60\n")
    stub.chmod(0o755)
    environment = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "CI_SKIP_APT": "1"}
    run = subprocess.Popen(
        ["bash", str(tmp_path / ".ci" / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
        start_new_session=True,
        preexec_fn=_signals_as_on_a_terminal,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (started.exists() and started.read_text().strip()):
            assert time.monotonic() < deadline, "the script never reached its service check"
            assert run.poll() is None, run.stdout.read() if run.stdout else ""
            time.sleep(0.05)
        run.send_signal(signum)  # the script alone, as a runner's timeout stops it
        time.sleep(0.2)
        os.kill(int(started.read_text()), signal.SIGTERM)  # and its step then ends
        output, _ = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode != 0, output
    assert "CI PASSED" not in output, output
    assert "CI FAILED" in output, output


# --- the two lanes -------------------------------------------------------------------------------
# The script runs steps 2, 2b, 4 (lane "embedded") beside 3, 5, 6, 7 (lane "services"). These
# tests run a copy of it over stand-ins for every program it starts (make, psql, redis-cli, the
# worker, the step scripts), which record what they were asked and behave as each test says.

STAND_IN = """#!/bin/bash
name=$(basename "$0")
echo "$name $* [DATABASE_URL=${DATABASE_URL:-}]" >> "$STUB_CALLS"
case "$name" in
  redis-cli) [[ " $* " == *" ping "* ]] && echo PONG ;;
  celery)
    echo "ci-worker@vm ready."
    echo "Task povertyapp.tasks.run_job_task[1] succeeded in 0.1s: 'succeeded'"
    echo $$ >> "$STUB_PIDS"
    exec sleep 600 ;;
  python) echo "3 passed" ;;
  make)
    if [[ " $* " == *" test "* ]]; then
      lane=embedded; [[ -n "${DATABASE_URL:-}" ]] && lane=services
      echo "make test in lane $lane"
      if [[ "${STUB_FAIL:-}" == "$lane" ]]; then echo "1 failed in lane $lane"; exit 1; fi
      if [[ " ${STUB_SLOW:-} " == *" $lane "* ]]; then echo $$ >> "$STUB_PIDS"; sleep 600; fi
    fi ;;
esac
exit 0
"""


def _lanes_copy(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    for script in ("migrate_from_release.sh", "schemathesis.sh", "production.sh", "replica.sh"):
        (tmp_path / ".ci" / script).write_text(
            f'echo "{script} ran" >> "$STUB_CALLS"\necho "{script}: passed"\n'
        )
    stubs = tmp_path / "stubs"
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    stubs.mkdir()
    for path in [stubs / name for name in ("make", "psql", "redis-cli", "pg_isready")] + [
        tmp_path / ".venv" / "bin" / name for name in ("celery", "python")
    ]:
        path.write_text(STAND_IN)
        path.chmod(0o755)
    environment = {
        **os.environ,
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "CI_SKIP_APT": "1",
        "STUB_CALLS": str(tmp_path / "calls"),
        "STUB_PIDS": str(tmp_path / "pids"),
    }
    return tmp_path / ".ci" / "run", environment


def _alive(tmp_path: Path) -> list[int]:
    """The stand-ins that slept (a worker, a long `make test`) and are still running."""
    pids_file = tmp_path / "pids"
    pids = [int(line) for line in pids_file.read_text().split()] if pids_file.exists() else []
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def _run(script: Path, environment: dict[str, str], **extra: str) -> tuple[int, str]:
    run = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        env={**environment, **extra},
        timeout=120,
        check=False,
        start_new_session=True,
    )
    return run.returncode, run.stdout + run.stderr


def test_both_lanes_run_every_step_and_the_run_passes(tmp_path):
    script, environment = _lanes_copy(tmp_path)
    status, output = _run(script, environment)
    assert status == 0, output
    assert "CI PASSED" in output
    steps = [
        "== 2. make test on the embedded default",
        "== 2b. The last release's database",
        "== 4. schemathesis",
        "== 3. make test on PostgreSQL",
        "The Celery worker executed 1 job(s) successfully.",
        "== 5. Production pass",
        "== 6. Fault drills",
        "== 7. Read replica",
    ]
    for step in steps:
        assert output.count(step) == 1, (step, output)
    # Each lane's steps in order, the lanes whole (never interleaved line by line).
    embedded = [output.index(step) for step in steps[:3]]
    services = [output.index(step) for step in steps[3:]]
    assert embedded == sorted(embedded) and services == sorted(services), output
    assert max(embedded) < min(services) or max(services) < min(embedded), output
    calls = (tmp_path / "calls").read_text()
    # The virtualenv and translations were made once, before the lanes; the second make test
    # keeps its linters' caches apart from the first's.
    assert calls.index("make install compile-messages") < calls.index("make test")
    assert "LINT_IMPORTS_ARGS=--cache-dir" in calls
    assert "make test PYTEST_ARGS=-rs" in calls and "[DATABASE_URL=postgres://" in calls
    for script_name in ("migrate_from_release", "schemathesis", "production", "replica"):
        assert f"{script_name}.sh ran" in calls
    assert _alive(tmp_path) == []  # the worker was stopped


def test_a_failed_lane_stops_the_other_and_its_output_comes_last(tmp_path):
    script, environment = _lanes_copy(tmp_path)
    started = time.monotonic()
    status, output = _run(script, environment, STUB_FAIL="services", STUB_SLOW="embedded")
    assert status != 0, output
    assert time.monotonic() - started < 60, "the run waited for the other lane's sleep"
    assert "CI PASSED" not in output and "CI FAILED" in output, output
    assert output.index("lane embedded stopped: lane services failed") < output.index(
        "lane services FAILED"
    ), output
    tail = output[output.index("lane services FAILED") :]
    assert "1 failed in lane services" in tail, output
    # Nothing after the failed lane's own steps ran, and no process of either lane is left.
    assert "== 5. Production pass" not in output, output
    assert _alive(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_lanes_run_stops_them_and_fails(tmp_path, signum):
    script, environment = _lanes_copy(tmp_path)
    run = subprocess.Popen(
        ["bash", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**environment, "STUB_SLOW": "embedded services"},
        start_new_session=True,
        preexec_fn=_signals_as_on_a_terminal,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        # The worker and both lanes' long make tests are running.
        while len(_alive(tmp_path)) < 3:
            assert time.monotonic() < deadline, "the lanes never started"
            assert run.poll() is None, run.stdout.read() if run.stdout else ""
            time.sleep(0.05)
        run.send_signal(signum)
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode != 0, output
    assert "CI PASSED" not in output and "CI FAILED" in output, output
    assert _alive(tmp_path) == []
