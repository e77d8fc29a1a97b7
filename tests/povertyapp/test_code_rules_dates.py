"""Rules of the house on reading the clock (the suite runs 30+ minutes and can cross midnight in
Asia/Shanghai, 16:00 UTC).

A test module that reads today's date at import (a module constant, a class attribute, a default
argument, a parametrize value) is a day behind the app's `timezone.localdate()` once the run
crosses local midnight; tests read it when they run (`tests.project.app_today()`). And
`date.today()` is the machine's (UTC) date, not the app's: the app uses `timezone.localdate()`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.povertyapp.test_code_rules import ROOT, _python_files

# A call whose dotted name ends with one of these reads the clock.
CLOCK_READS = (
    "timezone.localdate",
    "timezone.localtime",
    "timezone.now",
    "date.today",
    "datetime.today",
    "datetime.now",
    "app_today",
    "localdate",
    "localtime",
)
TESTS = ROOT / "tests"


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _reads_clock(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func)
    return any(name == read or name.endswith("." + read) for read in CLOCK_READS)


def _evaluated_at_import(node: ast.AST) -> Iterator[ast.AST]:
    """Every node evaluated when the module is imported: not the bodies of functions and
    lambdas, but their decorators (parametrize) and default arguments, and class bodies."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        if not isinstance(node, ast.Lambda):
            for decorator in node.decorator_list:
                yield from _evaluated_at_import(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                yield from _evaluated_at_import(default)
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _evaluated_at_import(child)


def clock_reads_at_import(source: str) -> list[int]:
    """Lines where the module reads the clock at import."""
    tree = ast.parse(source)
    return sorted(
        {
            node.lineno
            for node in _evaluated_at_import(tree)
            if isinstance(node, ast.Call) and _reads_clock(node)
        }
    )


def utc_dates(source: str) -> list[int]:
    """Lines that call `date.today()` (the machine's UTC date)."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and _dotted(node.func).endswith("date.today")
    )


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("TODAY = timezone.localdate()\n", [1]),
        ("import datetime\nTODAY = datetime.date.today()\n", [2]),
        ("YEAR = timezone.now().year\n", [1]),
        ("START = datetime.datetime.now() - d\n", [1]),
        ("WHEN = localtime()\n", [1]),
        ("CASES = {'a': f(day=app_today())}\n", [1]),
        ("class T:\n    today = date.today()\n", [2]),
        ("def f(on=timezone.localdate()):\n    pass\n", [1]),
        ("@pytest.mark.parametrize('d', [datetime.today()])\ndef test(d):\n    pass\n", [1]),
        ("def f():\n    return timezone.localdate()\n", []),
        ("f = lambda: app_today()\n", []),
        ("CASES = {'a': f(day=app_today)}\n", []),
        ("TODAY = datetime.date(2026, 6, 15)\n", []),
    ],
)
def test_a_clock_read_at_import_is_found(source: str, lines: list[int]) -> None:
    assert clock_reads_at_import(source) == lines


def _test_modules() -> Iterator[Path]:
    for path in _python_files():
        if path.is_relative_to(TESTS):
            yield path


def test_no_test_module_reads_the_date_at_import() -> None:
    modules = list(_test_modules())
    assert len(modules) > 50  # the walk sees the tests
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules
        for line in clock_reads_at_import(path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("today = datetime.date.today()\n", [1]),
        ("x = date.today().year\n", [1]),
        ("today = timezone.localdate()\n", []),
        ("birth = datetime.date(1980, 1, 1)\n", []),
    ],
)
def test_a_utc_date_is_found(source: str, lines: list[int]) -> None:
    assert utc_dates(source) == lines


def test_the_app_reads_its_local_date_not_the_machines() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        if not path.is_relative_to(TESTS)
        for line in utc_dates(path.read_text(encoding="utf-8"))
    ]
    assert found == []
