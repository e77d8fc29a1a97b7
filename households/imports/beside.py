"""The households sheet read in a second process, beside the members sheet read in this one.

Reading both sheets is the largest part of the import's Python work (a 100k-household workbook:
27 s of CPU for the 370,000-row members sheet, 9 s for the households sheet), and it runs on
one core while the second idles: the database has nothing to do until the write. When the
households sheet is large (`LEDGER_IMPORT_BESIDE_BYTES` of XML, about 12,000 households) and
the machine has a second core, a child process (`CHILD`) reads it into a staging
file of its own while this process reads the members sheet; the rows are then copied into the
import's staging file (`_Staging.take_households`) and the cell errors added to the report in
the order an in-process read would have given them.

A child process, not a thread (the GIL: the reading is pure Python) nor `multiprocessing`
(Celery's prefork workers are daemonic processes, which may not have multiprocessing
children). The child reads the same checked file, with the language and the row limit of the
import that started it; it opens no database connection. If it cannot start, fails, or takes
longer than `TIMEOUT`, the households sheet is read in this process after all, and the import
goes on: a reader process is a speed-up, never a new way for an import to fail. A refusal
(the sheet has too many rows, its XML is unsafe) is the import's refusal, with the same words.

The protocol: the request as JSON in the child's one argument (paths, the sheet's columns, the
row limit, the language: no personal data), the outcome as JSON on its stdout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from households.imports.columns import HOUSEHOLD_IMPORTED
from households.imports.files import STAGING_PREFIX, import_directory
from households.imports.reading import SheetData, Sheets
from households.imports.report import CellError, ImportRefused, ImportReport
from households.imports.staging import _Staging
from povertyapp.ledgers import reader

logger = logging.getLogger(__name__)

# The child's program: Django is set up before this package is imported (its `__init__`
# imports the models), so not `python -m households.imports.beside`.
CHILD = "import django; django.setup(); from households.imports.beside import main; main()"
TIMEOUT = 900  # seconds: far beyond the largest sheet allowed (500,000 rows read in ≈ 45 s)


def _threshold() -> int:
    from django.conf import settings

    return int(getattr(settings, "LEDGER_IMPORT_BESIDE_BYTES", 0))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class Outcome:
    """What the child read: the rows are in the staging file at `path`."""

    count: int
    keys: tuple[str, ...] | None
    errors: list[CellError]
    errors_omitted: int
    unreadable: set[tuple[str, int, str]]


class HouseholdSheetReader:
    """The child process reading the households sheet. `start()` it before the members sheet
    is read, `take()` its rows after; `stop()` (always, in a `finally`) ends it and removes its
    file if it is still there."""

    def __init__(self, process: subprocess.Popen[bytes], path: str) -> None:
        self.process = process
        self.path = path

    @classmethod
    def start(
        cls, workbook: reader.XlsxReader, sheets: Sheets, limit: int
    ) -> HouseholdSheetReader | None:
        """The reader of the households `sheets` (the first and its continuation sheets),
        started; None when they are too small to gain from it, the machine has one core, or
        the process cannot start (then read them in-process)."""
        from django.conf import settings
        from django.utils import translation

        threshold = _threshold()
        try:
            size = sheets.xml_bytes(workbook)
        except KeyError:
            return None
        if threshold <= 0 or size < threshold or _cores() < 2:
            return None
        workbook_path = workbook.archive.filename
        # The child loads the settings this process was started with (`settings.SETTINGS_MODULE`
        # is None under override_settings); overrides reach it through the request only.
        settings_module = os.environ.get("DJANGO_SETTINGS_MODULE")
        if workbook_path is None or not settings_module:
            return None
        # Beside the uploads, with the staging files' prefix: a file left by a crash goes with
        # them in the nightly clean-up (`import_files_cleanup`).
        handle, path = tempfile.mkstemp(
            suffix=".sqlite3", prefix=STAGING_PREFIX, dir=import_directory()
        )
        os.close(handle)
        request = {
            "workbook": os.path.abspath(workbook_path),
            "staging": path,
            "sheets": [
                {
                    "name": sheet.name,
                    "part": sheet.part,
                    "columns": sheet.columns,
                    "header_row": sheet.header_row,
                }
                for sheet in sheets.items
            ],
            "limit": limit,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        }
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": os.pathsep.join(
                [str(settings.BASE_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", CHILD, json.dumps(request)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(settings.BASE_DIR),
                env=environment,
            )
        except OSError:
            logger.warning("import: the households sheet's reader did not start", exc_info=True)
            os.unlink(path)
            return None
        return cls(process, path)

    def take(
        self, staging: _Staging, report: ImportReport, unreadable: set[tuple[str, int, str]]
    ) -> int | None:
        """Wait for the child; copy its rows into `staging` and its errors into `report`.
        Returns the rows read, or None when the child failed (read the sheet in-process).
        Raises ImportRefused when the sheet is refused."""
        outcome = self._wait()
        if outcome is None:
            return None
        staging.take_households(self.path, outcome.keys)
        logger.info(
            "import: %d households sheet rows read by process %d", outcome.count, self.process.pid
        )
        report.errors.extend(outcome.errors)
        report.errors_omitted += outcome.errors_omitted
        report.trim()
        unreadable |= outcome.unreadable
        return outcome.count

    def _wait(self) -> Outcome | None:
        try:
            out, err = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            logger.warning("import: the households sheet's reader took over %d s", TIMEOUT)
            self.stop()
            return None
        try:
            answer = json.loads(out) if self.process.returncode == 0 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            logger.warning(
                "import: the households sheet's reader failed (exit status %s): %s",
                self.process.returncode,
                err.decode(errors="replace")[-2000:],
            )
            return None
        if "refused" in answer:
            raise ImportRefused(answer["refused"])
        return Outcome(
            count=answer["count"],
            keys=tuple(answer["keys"]) if answer["keys"] is not None else None,
            errors=[CellError(**error) for error in answer["errors"]],
            errors_omitted=answer["errors_omitted"],
            unreadable={(sheet, row, column) for sheet, row, column in answer["unreadable"]},
        )

    def stop(self) -> None:
        if self.process.returncode is None:  # not yet waited for: end it, close its pipes
            self.process.kill()
            self.process.communicate()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def read(request: dict[str, Any]) -> dict[str, Any]:
    """The child's work: the sheet's rows into the staging file named by the request."""
    from households.imports.reading import _open

    sheets = Sheets([SheetData(**sheet) for sheet in request["sheets"]])
    report = ImportReport(dry_run=True)
    unreadable: set[tuple[str, int, str]] = set()
    try:
        workbook = _open(request["workbook"])  # the same checks again: nothing is trusted
        try:
            staging = _Staging(path=request["staging"])
            count = staging.add_households(
                sheets.rows(workbook, HOUSEHOLD_IMPORTED, report, unreadable, request["limit"]),
                indexed=False,
            )
            staging.save()
        finally:
            workbook.close()
    except ImportRefused as refusal:
        return {"refused": str(refusal)}
    return {
        "count": count,
        "keys": staging.household_rows.keys,
        "errors": [error.as_dict() for error in report.errors],
        "errors_omitted": report.errors_omitted,
        "unreadable": sorted(unreadable),
    }


def main() -> None:
    """The child process (`CHILD`), with Django set up."""
    from django.utils import translation

    request = json.loads(sys.argv[1])

    with translation.override(request["language"]):
        answer = read(request)
    sys.stdout.buffer.write(json.dumps(answer).encode())
