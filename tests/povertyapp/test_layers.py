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


def test_the_contract_names_the_five_packages_on_four_floors() -> None:
    assert _floors() == [
        ["inspections"],
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
