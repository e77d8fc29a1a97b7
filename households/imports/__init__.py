"""The household import: the 户台账 + 人员台账 workbook the export writes, read back.

    upload → uploads.check_spreadsheet (before parsing) → read (a streaming reader on the standard
    library, `povertyapp.ledgers.reader`; columns matched by their Chinese header text) →
    validate every household (nothing written) → report errors, or a dry-run preview, or
    write everything in one transaction.

The modules, by concern (each imports only those listed before it):

    report.py          what an import found: ImportReport, CellError, ImportRefused
    columns.py         the columns read, the headers that identify each sheet, required columns
    reading.py         the hostile-file checks, the sheets found, rows streamed, cells parsed
    files.py           uploads waiting for their job (LEDGER_IMPORT_DIR) and their clean-up
    staging.py         parsed rows and validated households in a temporary SQLite file
    beside.py          a large households sheet read in a second process (`python -m`)
    validation.py      every household checked with the registry's rules, in batches
    writing.py         import_households, end to end, and the write through the services
    template.py        the blank template with its drop-downs
    error_workbook.py  the errors as a workbook, bad cells highlighted
    jobs.py            the import job (kind `households_import`), registered on import

The names below are what the rest of the project uses. Importing this package registers the job
kind `households_import` (the ledger machinery autodiscovers `<app>.imports` in the worker).
"""

from households.imports.error_workbook import error_workbook
from households.imports.files import (
    IMPORT_JOB,
    import_directory,
    import_file_path,
    import_file_store,
    import_files_cleanup,
    import_retention_hours,
)
from households.imports.jobs import run_import_job
from households.imports.report import CellError, ImportRefused, ImportReport
from households.imports.template import import_template
from households.imports.writing import import_households

__all__ = [
    "IMPORT_JOB",
    "CellError",
    "ImportRefused",
    "ImportReport",
    "error_workbook",
    "import_directory",
    "import_file_path",
    "import_file_store",
    "import_files_cleanup",
    "import_households",
    "import_retention_hours",
    "import_template",
    "run_import_job",
]
