"""Every template of the project, read as text, for the rules the template tests hold
(`tests/povertyapp/test_template_cells.py`, `test_template_tables.py`): the pages no walk or
browser test opens are held too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings


def templates() -> Iterator[tuple[str, str]]:
    """(name relative to the checkout, text) of every template, in name order."""
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        yield str(path.relative_to(settings.BASE_DIR)), path.read_text(encoding="utf-8")


def findings(rule: Callable[[str], list[str]], skip: tuple[str, ...] = ()) -> list[str]:
    """`name: finding` for each finding of `rule` in each template whose name holds none of
    `skip`."""
    return [
        f"{name}: {found}"
        for name, text in templates()
        if not any(part in name for part in skip)
        for found in rule(text)
    ]
