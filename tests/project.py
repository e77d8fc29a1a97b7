"""The project's own apps, for the meta-tests that walk every view, form, job kind or template
of the project: read from INSTALLED_APPS (the apps whose code lives in this repository), so a
new app is walked without anyone remembering to list it."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils import timezone


def project_apps() -> tuple[str, ...]:
    base = Path(settings.BASE_DIR).resolve()
    return tuple(
        config.name
        for config in apps.get_app_configs()
        # An app of this repository is a top-level folder of it (the virtualenv's apps, also
        # under BASE_DIR when .venv sits there, are not).
        if Path(config.path).resolve().parent == base
    )


PROJECT_APPS = project_apps()


def app_today() -> datetime.date:
    """The app's date (Asia/Shanghai), read when the test runs, never at import: a module-level
    TODAY is a day behind `timezone.localdate()` once a long run crosses local midnight (16:00
    UTC), and `datetime.date.today()` is the machine's UTC date, not the app's."""
    return timezone.localdate()
