"""The registry's pages live in `households.views`, a module per concern (issue 18): every page
of the `households:` namespace keeps its address and name, and is served by the module of its
concern; the package itself holds no view."""

from __future__ import annotations

import inspect

import pytest
from django.urls import get_resolver, resolve, reverse

import households.views

CONCERNS = {
    "registry": {
        "list",
        "group-options",
        "create",
        "detail",
        "edit",
        "assistance-badge",
    },
    "members": {"income", "member-remove", "member-move"},
    "procedures": {
        "workflow-start",
        "workflow",
        "workflow-complete",
        "workflow-return",
        "workflow-withdraw",
        "notice-start",
        "notice-objection",
        "notice-print",
        "todo",
    },
    "batches": {
        "batches",
        "batch-create",
        "batch",
        "batch-meeting",
        "batch-notice",
        "batch-step",
        "batch-notice-print",
    },
    "quality": {"quality", "quality-run", "problem-explain", "problem-review"},
    # issue 16: the onboarding imports and the exchange with the national system
    "onboarding": {
        "import_regions",
        "import_village_years",
        "import_resident_teams",
        "onboarding_template",
    },
    "national": {
        "national",
        "national-export",
        "national-mark",
        "national-reconcile",
        "national-report",
        "national-mark-household",
    },
}


def _households_patterns() -> list:
    (resolver,) = [
        item
        for item in get_resolver().url_patterns
        if getattr(item, "namespace", None) == "households"
    ]
    return resolver.url_patterns


def test_every_page_of_the_namespace_is_served_by_the_module_of_its_concern():
    found = {
        pattern.name: inspect.unwrap(pattern.callback).__module__
        for pattern in _households_patterns()
    }
    expected = {
        name: f"households.views.{module}" for module, names in CONCERNS.items() for name in names
    }
    assert found == expected


@pytest.mark.parametrize(
    ("name", "args", "path"),
    [
        ("households:list", [], "/households/"),
        ("households:income", [3, 2024], "/households/3/income/2024/"),
        ("households:workflow-complete", [5], "/households/cases/5/complete/"),
        ("households:batch-notice-print", [2], "/households/batches/2/notice/print/"),
        ("households:problem-review", [9], "/households/quality/9/review/"),
    ],
)
def test_the_pages_keep_their_addresses(name, args, path):
    assert reverse(name, args=args) == path
    assert resolve(path).view_name == name


def test_the_package_holds_no_view():
    assert [name for name, value in vars(households.views).items() if callable(value)] == []
