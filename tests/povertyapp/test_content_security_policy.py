"""The strict Content-Security-Policy (django-csp) and the templates that keep to it.

Every template of the project is read for inline scripts, on* handlers, javascript: URLs and
inline styles (new templates are covered automatically); every page of the menu is rendered for
the role that sees the most and read the same way; the header is on pages, the API and the error
pages, and the API docs (Swagger UI) work without an exception to the policy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from povertyapp.menu import menu_for
from tests.conftest import login
from tests.povertyapp.inline_code import inline_code
from tests.project import PROJECT_APPS

ROOT = Path(__file__).resolve().parents[2]


def _template_files() -> list[Path]:
    directories = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    directories += [ROOT / app / "templates" for app in PROJECT_APPS]
    existing = [directory for directory in directories if directory.is_dir()]
    return sorted(path for directory in existing for path in directory.rglob("*.html"))


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_no_template_has_inline_script_handler_or_style():
    files = _template_files()
    assert len(files) > 50
    problems = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := inline_code(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_the_checker_finds_each_kind_of_inline_code():
    page = (
        '<script>alert(1)</script><script src="/a.js"></script>'
        '<script type="application/json">{}</script><button onclick="x()">'
        '<select name="a"\n  onchange="y()"><a href="javascript:history.back()">'
        '<style>p{}</style><div style="color:red">{# <script>ignored</script> #}'
    )
    assert [problem.split(":")[0] for problem in inline_code(page)] == [
        "inline script",
        "event handler",
        "event handler",
        "javascript",
        "<style> element",
        "style attribute",
    ]


def test_pages_carry_the_strict_policy(cast):
    response = login(cast.cadre).get(reverse("households:list"))
    directives = _directives(response["Content-Security-Policy"])
    assert directives == {
        "default-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "img-src": ["'self'", "data:"],
    }
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/regions/", "/no-such-page/"])
def test_the_policy_is_on_the_login_page_the_api_and_error_pages(url):
    response = Client().get(url)
    assert "script-src 'self';" in response["Content-Security-Policy"] + ";"


@pytest.mark.parametrize("name", ["county", "helper", "sysadmin"])
def test_every_menu_page_renders_without_inline_code(cast, household_a, name):
    user = getattr(cast, name)
    client = login(user)
    urls = [reverse("home"), *[link.url for link in menu_for(user)]]
    if name != "sysadmin":
        urls.append(reverse("households:detail", args=[household_a.pk]))
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url


def test_api_docs_load_their_code_from_files_and_the_init_script_from_the_same_view(cast):
    client = login(cast.cadre)
    response = client.get(reverse("api-docs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert inline_code(html) == []
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources == [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
        "/api/v1/docs/?script=",
    ]
    for source in sources[:2]:
        assert finders.find(source.removeprefix("/static/")) is not None
    script = client.get(sources[2])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/v1/schema/"' in script.content.decode()


def test_no_template_uses_an_htmx_attribute_that_needs_eval():
    """htmx evaluates trigger filters (`change[cond]`), `hx-vals="js:…"`/`hx-vars` and `hx-on`
    with eval, which `script-src 'self'` refuses: the element would silently do nothing in
    production. A template uses a data attribute of static/js/behaviours.js instead."""
    import re
    from pathlib import Path

    needs_eval = re.compile(
        r"hx-trigger=\"[^\"]*\[|hx-(vals|headers)=\"\s*js:|hx-vars=|hx-on[:-]", re.IGNORECASE
    )
    root = Path(__file__).resolve().parents[2] / "templates"
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        for match in needs_eval.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
