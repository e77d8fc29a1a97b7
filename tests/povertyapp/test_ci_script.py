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
