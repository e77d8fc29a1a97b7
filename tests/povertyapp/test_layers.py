"""The import-layer check (`make layers`): the contracts of [tool.importlinter] in pyproject.toml.

The check is shown to work on a fake project built from the contract itself (every arrow the
layers allow, taken in turn), then to fail, naming the import, on a planted upward import, on a
sibling import, on an upward import hidden under TYPE_CHECKING or inside a function, and on an
import cycle. Last, the same check runs on the real tree: it must pass (issue 18).

`lint-imports` runs in a subprocess with the fake project as its working directory (it puts the
working directory first on the import path) and the real pyproject.toml as its configuration, so
the contract is read, never copied.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> dict[str, Any]:
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)["tool"]["importlinter"]


def _floors() -> list[list[str]]:
    """The layers contract's floors, top first, each a list of its packages."""
    (layers,) = [c for c in _config()["contracts"] if c["type"] == "layers"]
    return [
        [name.strip().strip("()") for name in floor.replace(":", "|").split("|")]
        for floor in layers["layers"]
    ]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        # Wide and plain, so that an import chain is printed on one line.
        "COLUMNS": "250",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    return subprocess.run(
        [str(LINT_IMPORTS), str(PYPROJECT), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _write(root: Path, module: str, source: str = "") -> None:
    """Write `module` (dotted) under root, with the __init__.py of every package on the way."""
    parts = module.split(".")
    for depth in range(1, len(parts)):
        init = root.joinpath(*parts[:depth], "__init__.py")
        init.parent.mkdir(parents=True, exist_ok=True)
        init.touch()
    root.joinpath(*parts[:-1], f"{parts[-1]}.py").write_text(source, encoding="utf-8")


@pytest.fixture
def fake_project(tmp_path: Path) -> Path:
    """Every root package of the contract, each importing every package on every floor below it.

    Each app has a `models` module and a `migrations` package (whose migration imports the app's
    models: the cycle contract skips migrations, and needs them to exist to skip them).
    """
    assert set(_config()["root_packages"]) == {p for floor in _floors() for p in floor}
    floors = _floors()
    for index, floor in enumerate(floors):
        below = [package for lower in floors[index + 1 :] for package in lower]
        for package in floor:
            _write(tmp_path, f"{package}.models", "".join(f"import {p}.models\n" for p in below))
            _write(tmp_path, f"{package}.services", f"from {package} import models\n")
            _write(tmp_path, f"{package}.migrations.0001_initial", f"import {package}.models\n")
    return tmp_path


def test_the_contract_names_the_seven_packages_on_five_floors() -> None:
    assert _floors() == [
        ["years"],
        ["inspections", "monitoring"],
        ["assistance", "rounds"],
        ["households"],
        ["povertyapp"],
    ]
    assert _config()["exclude_type_checking_imports"] is False


def test_the_check_passes_on_a_project_that_keeps_every_allowed_arrow(fake_project: Path) -> None:
    result = _lint_imports(fake_project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "named"),
    [
        pytest.param(
            "povertyapp.x",
            "import households.models\n",
            ["povertyapp is not allowed to import households", "povertyapp.x -> households.models"],
            id="platform-imports-the-registry",
        ),
        pytest.param(
            "households.x",
            "from inspections import models\n",
            ["households is not allowed to import inspections", "households.x -> inspections"],
            id="registry-imports-an-app-above",
        ),
        pytest.param(
            "assistance.x",
            "import rounds.models\n",
            ["assistance is not allowed to import rounds", "assistance.x -> rounds.models"],
            id="sibling-imports-its-sibling",
        ),
        pytest.param(
            "povertyapp.x",
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import assistance.models\n",
            ["povertyapp is not allowed to import assistance", "povertyapp.x -> assistance.models"],
            id="under-type-checking",
        ),
        pytest.param(
            "povertyapp.x",
            "def late() -> None:\n    import rounds.services  # noqa: F401\n",
            ["povertyapp is not allowed to import rounds", "povertyapp.x -> rounds.services"],
            id="inside-a-function",
        ),
    ],
)
def test_the_check_fails_on_an_upward_or_sideways_import_and_names_it(
    fake_project: Path, module: str, source: str, named: list[str]
) -> None:
    _write(fake_project, module, source)

    result = _lint_imports(fake_project)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Floors" in result.stdout and "BROKEN" in result.stdout
    for text in named:
        assert text in result.stdout, result.stdout


def test_the_check_fails_on_an_import_cycle_and_names_it(fake_project: Path) -> None:
    _write(fake_project, "households.first", "from households import second\n")
    _write(fake_project, "households.second", "from households import first\n")

    result = _lint_imports(fake_project)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "No cycles are allowed in households." in result.stdout, result.stdout
    assert (".first -> .second" in result.stdout) or (".second -> .first" in result.stdout)


def test_a_cycle_through_migrations_is_not_counted(fake_project: Path) -> None:
    _write(fake_project, "households.models", "from households.migrations import helpers\n")
    _write(fake_project, "households.migrations.helpers", "from households import models\n")

    result = _lint_imports(fake_project)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_real_tree_keeps_the_contract() -> None:
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


# --- cycles inside a package: what `acyclic_siblings` does not see ----------------------------
# The acyclic contract compares the children of each app, so a package and one of its own
# submodules (`povertyapp.ledgers` <-> `povertyapp.ledgers.services`) importing each other stay
# invisible to it. This check walks every module of the six packages (grimp's graph, the one
# import-linter reads) and finds every circle of modules, migrations left out.


def module_cycles(root: Path) -> list[list[str]]:
    """Every set of modules that import each other in a circle (strongly connected, size > 1)."""
    script = (
        "import json, sys, grimp\n"
        f"graph = grimp.build_graph(*{_config()['root_packages']!r}, "
        "include_external_packages=False, exclude_type_checking_imports=False, cache_dir=None)\n"
        "edges = {m: sorted(t for t in graph.find_modules_directly_imported_by(m) "
        "if '.migrations' not in t) for m in graph.modules if '.migrations' not in m}\n"
        "json.dump(edges, sys.stdout)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    edges: dict[str, list[str]] = __import__("json").loads(found.stdout)
    # Tarjan's strongly connected components, iteratively (no recursion limit on a big tree).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges.get(start, [])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                circle = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    circle.append(member)
                    if member == node:
                        break
                if len(circle) > 1:
                    circles.append(sorted(circle))
    return sorted(circles)


def test_the_module_check_finds_a_package_and_its_submodule_in_a_circle(
    fake_project: Path,
) -> None:
    assert module_cycles(fake_project) == []
    _write(fake_project, "povertyapp.ledgers.services", "import povertyapp.ledgers\n")
    (fake_project / "povertyapp" / "ledgers" / "__init__.py").write_text(
        "def discover():\n    from povertyapp.ledgers import services\n", encoding="utf-8"
    )

    assert module_cycles(fake_project) == [["povertyapp.ledgers", "povertyapp.ledgers.services"]]


def test_no_module_of_the_real_tree_imports_itself_round_a_circle() -> None:
    assert module_cycles(ROOT) == []
