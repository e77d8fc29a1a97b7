"""What a household import found: the counts, the dry-run preview, the errors cell by cell
(`ImportReport`, `CellError`), and the refusal of a file that cannot be read at all
(`ImportRefused`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR_DETAIL_LIMIT = 20000  # errors kept with their details; the rest are counted


class ImportRefused(Exception):
    """The file cannot be read at all (hostile, not an xlsx, sheets missing)."""


@dataclass
class CellError:
    sheet: str
    row: int  # the Excel row number
    column: str  # the header text
    value: str  # masked where sensitive
    message: str
    column_index: int | None = None  # 0-based, for highlighting

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "column_index": self.column_index,
        }


@dataclass
class ImportReport:
    dry_run: bool
    errors: list[CellError] = field(default_factory=list)
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    incomes_set: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    errors_omitted: int = 0  # found beyond ERROR_DETAIL_LIMIT: counted, details not kept

    PREVIEW_LIMIT = 200

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_omitted

    def trim(self) -> None:
        """Keep the details of the first ERROR_DETAIL_LIMIT errors only (bounded memory)."""
        if len(self.errors) > ERROR_DETAIL_LIMIT:
            self.errors_omitted += len(self.errors) - ERROR_DETAIL_LIMIT
            del self.errors[ERROR_DETAIL_LIMIT:]

    def as_dict(self, *, error_limit: int = 1000) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "error_count": self.error_count,
            "errors": [error.as_dict() for error in self.errors[:error_limit]],
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged,
            "members_created": self.members_created,
            "members_updated": self.members_updated,
            "incomes_set": self.incomes_set,
            "preview": self.preview[: self.PREVIEW_LIMIT],
        }
