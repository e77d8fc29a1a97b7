"""The round services are a package, one module per concern (`rounds/services/`): its face hands
on every public name of its modules, the modules import each other downwards only, and
importing the package registers the workbook import's job kind."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from povertyapp import jobs
from rounds import services

PACKAGE = "rounds.services"


def _modules() -> list[str]:
    return sorted(f"{PACKAGE}.{info.name}" for info in pkgutil.iter_modules(services.__path__))


def test_the_package_hands_on_every_public_function_of_its_modules():
    missing = []
    for name in _modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if attribute.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__module__ != name:
                continue  # imported from elsewhere
            if getattr(services, attribute, None) is not value:
                missing.append(f"{name}.{attribute}")
    assert missing == []
    assert sorted(services.__all__) == sorted(set(services.__all__))
    assert all(hasattr(services, attribute) for attribute in services.__all__)


def test_the_modules_import_each_other_in_no_circle():
    graph: dict[str, set[str]] = {}
    for name in _modules():
        path = Path(services.__path__[0]) / f"{name.rsplit('.', 1)[1]}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module is not None
            and node.module.startswith(f"{PACKAGE}.")
        }
        # A module names its siblings, never the package's face (which imports them all).
        assert not any(
            isinstance(node, ast.ImportFrom) and node.module == PACKAGE for node in ast.walk(tree)
        ), name
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as circle:
        raise AssertionError(f"import circle: {circle.args[1]}") from None
    assert set(order) == set(graph)


def test_importing_the_package_registers_the_workbook_import_job():
    assert services.CHANGES_IMPORT_JOB == "rounds.changes_import"
    assert services.CHANGES_IMPORT_JOB in jobs.kinds()
