"""Rules of the house that hold over the project's own Python files (issue 18).

Every `# type: ignore` names the error codes it silences and says why, in the form
`# type: ignore[code]  # reason`: a bare ignore hides the next error too, and one without a
reason cannot be judged when the stubs catch up. Comments are found with `tokenize`, so the
words in a string (as in this module) do not count.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Not ours, or not source: the virtualenv, vendored files, caches and generated output.
SKIPPED_DIRECTORIES = {
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".import_linter_cache",
    ".schemathesis",
    "vendor",
    "media",
    "staticfiles",
    "artifacts",
    "var",
}
TYPE_IGNORE = re.compile(r"type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
CODES = re.compile(r"\[[a-z][a-z0-9-]*(,\s*[a-z][a-z0-9-]*)*\]")
REASON = re.compile(r"\s+#\s*(?!noqa\b)(?!type:)\S")


def _python_files() -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        for name in sorted(names):
            if name.endswith(".py"):
                yield Path(directory, name)


def type_ignores_without_reason(source: str) -> list[tuple[int, str]]:
    """(line, comment) of every `# type: ignore` that lacks its codes or its reason."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = TYPE_IGNORE.search(token.string)
        if match is None:
            continue
        codes, rest = match.group("codes"), match.group("rest")
        if not codes or not CODES.fullmatch(codes) or not REASON.match(rest):
            found.append((token.start[0], token.string))
    return found


@pytest.mark.parametrize(
    "line",
    [
        "x = f()  # type: ignore\n",
        "x = f()  # type: ignore  # the stubs are wrong\n",
        "x = f()  # type: ignore[]  # the stubs are wrong\n",
        "x = f()  # type: ignore[attr-defined]\n",
        "x = f()  # type: ignore[attr-defined]  #\n",
        "x = f()  # type: ignore[attr-defined]  # noqa: B018\n",
        "x = f()  # noqa: E501  # type: ignore[misc]\n",
        "x = f()  #type:ignore[misc]\n",
    ],
)
def test_a_type_ignore_without_its_code_or_reason_is_found(line: str) -> None:
    assert [number for number, _ in type_ignores_without_reason(line)] == [1]


@pytest.mark.parametrize(
    "line",
    [
        "x = f()  # type: ignore[attr-defined]  # for the template\n",
        "x = f()  # type: ignore[union-attr, misc]  # registered kinds only  # noqa: B018\n",
        'x = "a string that says # type: ignore"\n',
        "x = f()  # no type comment at all\n",
    ],
)
def test_a_type_ignore_with_its_code_and_reason_passes(line: str) -> None:
    assert type_ignores_without_reason(line) == []


def test_every_type_ignore_of_the_project_names_its_code_and_reason() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {comment}"
        for path in _python_files()
        for line, comment in type_ignores_without_reason(path.read_text(encoding="utf-8"))
    ]

    assert found == [], "\n".join(found)


def test_the_walk_sees_the_project_and_not_the_virtualenv() -> None:
    files = {path.relative_to(ROOT).as_posix() for path in _python_files()}

    assert "povertyapp/settings.py" in files
    assert ".ci/table_counts.py" in files
    assert "tests/povertyapp/test_code_rules.py" in files
    assert not any(name.startswith(".venv/") for name in files)


# --- translations inside f-strings -------------------------------------------------------------
# xgettext cannot read a call inside an f-string: `f"{_('村民委员会')}"` never reaches the
# catalog, so its English is missing (or dropped as obsolete) while the page shows Chinese.
# Translate the whole sentence with named placeholders instead: `_("%(village)s村民委员会")`.
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "pgettext", "ngettext", "npgettext"}


def gettext_in_fstrings(source: str) -> list[int]:
    """The lines of the gettext calls found inside f-strings."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in GETTEXT_NAMES
            ):
                found.append(inner.lineno)
    return found


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("x = f\"{_('村民委员会')}\"\n", [1]),
        ("x = f\"{name}{gettext_lazy('模板')}.xlsx\"\n", [1]),
        ('x = _("%(name)s村民委员会") % {"name": name}\n', []),
        ('x = f"{name}.xlsx"\n', []),
    ],
)
def test_a_translation_inside_an_fstring_is_found(source: str, lines: list[int]) -> None:
    assert gettext_in_fstrings(source) == lines


def test_no_translation_of_the_project_is_inside_an_fstring() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        for line in gettext_in_fstrings(path.read_text(encoding="utf-8"))
    ]

    assert found == [], "gettext inside f-strings (xgettext cannot see them):\n" + "\n".join(found)
