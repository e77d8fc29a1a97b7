"""The assistance workbooks (issue 16): 帮扶措施, 结对帮扶 and 项目库, each imported all or
nothing after the whole file is checked, each with its blank template and its command
(`import_measures`, `import_pairings`, `import_projects`). docs/assistance.md lists the
columns and the natural keys that make a re-import a no-op.

    reading.py    the sheets found by header text, rows streamed, cells parsed, the problems
    result.py     what an import wrote
    template.py   the blank template with drop-downs and instructions
    measures.py   import_measures (the measure → project link by 项目编号/项目名称)
    pairings.py   import_pairings (a change of helper closes the previous line)
    projects.py   import_projects (budget by source; the 受益户 sheet)
    jobs.py       the pages' import jobs, registered on import (the ledger machinery
                  autodiscovers `<app>.imports` in the worker)
"""

from assistance.imports.jobs import IMPORTS, AssistanceImport
from assistance.imports.measures import import_measures
from assistance.imports.pairings import import_pairings
from assistance.imports.projects import import_projects
from assistance.imports.result import ImportResult

__all__ = [
    "IMPORTS",
    "AssistanceImport",
    "ImportResult",
    "import_measures",
    "import_pairings",
    "import_projects",
]
