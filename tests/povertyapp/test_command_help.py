"""Every management command of the project builds its help without a database (a fresh
install runs `manage.py <command> --help` before `migrate`): nothing is read from the
database when a command module is imported or its parser built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = (
    "povertyapp",
    "households",
    "rounds",
    "assistance",
    "inspections",
    "monitoring",
    "years",
)

SCRIPT = """
import django
django.setup()
from django.core.management import get_commands, load_command_class
apps = set(%r)
names = sorted(name for name, app in get_commands().items() if app in apps)
for name in names:
    command = load_command_class(get_commands()[name], name)
    assert command.create_parser("manage.py", name).format_help()
print(len(names))
"""


def test_every_command_builds_its_help_on_an_empty_database(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="povertyapp.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT % (PROJECT_APPS,)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) >= 15
