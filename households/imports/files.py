"""The uploaded workbooks on disk: stored (after the hostile-file checks) in LEDGER_IMPORT_DIR,
outside MEDIA_ROOT because they hold personal information, until their job reads them; and the
nightly clean-up of those left behind (previews never confirmed, files and staging files of
crashed jobs)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from typing import IO

from django.utils import timezone

from povertyapp import uploads
from povertyapp.models import Job

# The job kind (registered by `households.imports.jobs`): the file of a queued or running
# import job is never cleaned up.
IMPORT_JOB = "households_import"
# The staging files (`households.imports.staging`) live beside the uploads and go with them.
STAGING_PREFIX = "household-import-"
_CLEANED = re.compile(r"[0-9a-f]{32}\.xlsx|" + STAGING_PREFIX + r"[A-Za-z0-9_]+\.sqlite3")


def import_directory() -> str:
    """Uploaded files wait here (outside MEDIA_ROOT: they hold personal information)."""
    from django.conf import settings

    directory = str(getattr(settings, "LEDGER_IMPORT_DIR", settings.BASE_DIR / "var" / "imports"))
    os.makedirs(directory, exist_ok=True)
    return directory


def import_file_path(name: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}\.xlsx", name or ""):
        raise ValueError("bad import file name")
    return os.path.join(import_directory(), name)


def import_retention_hours() -> int:
    from django.conf import settings

    return int(getattr(settings, "LEDGER_IMPORT_RETENTION_HOURS", 24))


def import_files_cleanup(*, older_than_hours: int | None = None) -> int:
    """Delete uploaded workbooks (and staging files) left in LEDGER_IMPORT_DIR for longer than
    the retention (a dry run never confirmed, a job that crashed), except the file of an import
    job that is still queued or running. Returns how many files were removed."""
    hours = import_retention_hours() if older_than_hours is None else older_than_hours
    cutoff = timezone.now().timestamp() - hours * 3600
    directory = import_directory()
    in_use = {
        parameters.get("file")
        for parameters in Job.objects.filter(
            kind=IMPORT_JOB, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).values_list("parameters", flat=True)
        if isinstance(parameters, dict)
    }
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if not _CLEANED.fullmatch(entry.name) or entry.name in in_use:
                continue
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # removed meanwhile by its own job
                continue
    return removed


def import_file_store(upload: IO[bytes]) -> str:
    """Check an uploaded file (before any parsing) and keep it for the job; returns its name.
    Raises ValidationError with the reason a hostile or wrong file is refused."""
    uploads.check_spreadsheet(upload, inline=False)
    name = f"{uuid.uuid4().hex}.xlsx"
    with open(import_file_path(name), "wb") as target:
        upload.seek(0)
        shutil.copyfileobj(upload, target)
    return name
