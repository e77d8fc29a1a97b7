"""What an assistance import wrote: rows created, updated, left unchanged (already there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
