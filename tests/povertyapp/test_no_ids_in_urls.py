"""No ID number, bank account or phone can reach a URL (issue 14, 安全审计): the class closed.

Three walks: every template's source (a GET form may not have a free-text input, unless listed
below with the reason it can hold no personal number), every parameterless page as rendered for
each kind of user (the same rule for inputs that widgets render), and every URL pattern of the
project (a GET carrying an ID number is not run: a page redirects without it, the API answers
400).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import login
from tests.html_forms import parse_forms

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "52262219800101001X"
BANK_ACCOUNT = "6222021234567890123"
PHONE = "13812345678"

# Free-text inputs a GET form may have, each with why it can hold no personal number.
ALLOWED_GET_TEXT = {
    # 行政村代码: a statistical region code, 12 digits (search_terms.REGION_PARAMS).
    ("dashboards/rounds/round_detail.html", "village"),
    # 责任单位 of a 督查整改 item: an organisation's name.
    ("inspections/rectification_list.html", "unit"),
    # 查询日期 of the dashboards: a DateField widget (`as_of_form.as_of`), a date.
    ("dashboards/_as_of.html", "as_of"),
}
FREE_TEXT = {"text", "search", "tel", "email", "url", ""}
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_METHOD = re.compile(r"""method\s*=\s*["']?(\w+)""", re.I)
_INPUT = re.compile(r"<(input|textarea)\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r"""(\w[\w-]*)\s*=\s*["']([^"']*)["']""")
_WIDGET = re.compile(r"\{\{\s*[\w.]*form\.(\w+)\s*\}\}")


def _templates() -> list[tuple[str, Path]]:
    """(name as the loader knows it, file) of every template of the project."""
    return sorted(
        (str(path.relative_to(directory)), path)
        for directory in [ROOT / "templates", *ROOT.glob("*/templates")]
        for path in directory.rglob("*.html")
    )


def _get_form_text_inputs(source: str) -> list[str]:
    """The free-text inputs (by name) of the source's GET forms (a form without a method is a
    GET form), including form fields written as `{{ form.name }}`."""
    names = []
    for attributes, body in _FORM.findall(source):
        method = _METHOD.search(attributes)
        if method and method.group(1).lower() == "post":
            continue
        if "{% search_form " in attributes:  # writes method="post" (test_search_forms.py)
            continue
        for tag, raw in _INPUT.findall(body):
            found = dict(_ATTRIBUTE.findall(raw))
            kind = found.get("type", "").lower() if tag.lower() == "input" else "text"
            if kind in FREE_TEXT and found.get("name"):
                names.append(found["name"])
        names += _WIDGET.findall(body)
    return names


def test_no_get_form_in_any_template_takes_free_text():
    templates = _templates()
    assert len(templates) > 50
    offending = []
    for name, path in templates:
        for field in _get_form_text_inputs(path.read_text(encoding="utf-8")):
            if (name, field) not in ALLOWED_GET_TEXT:
                offending.append((name, field))
    assert offending == []


def test_the_source_walk_sees_a_get_form_with_a_search_box():
    """The walk itself: it would catch the household list's old form, and a widget's field."""
    old = '<form method="get" class="card filters"><input type="text" name="q"></form>'
    assert _get_form_text_inputs(old) == ["q"]
    assert _get_form_text_inputs("<form><div>{{ filter.form.q }}</div></form>") == ["q"]
    posted = '<form method="post"><input name="q"></form>'
    assert _get_form_text_inputs(posted) == []


def _parameterless_urls(patterns=None, prefix: str = "") -> list[str]:
    urls = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(pattern, URLResolver):
            urls += _parameterless_urls(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            urls.append("/" + prefix + route)
    return urls


def _all_routes(patterns=None, prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += _all_routes(pattern.url_patterns, route)
        else:
            routes.append(route)
    return routes


@pytest.mark.parametrize("who", ["cadre", "county", "sysadmin"])
def test_no_rendered_get_form_of_any_page_takes_free_text(cast, household_a, who):
    client = login(getattr(cast, who))
    pages = 0
    offending = []
    for url in _parameterless_urls():
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        for form in parse_forms(response.content.decode())[:-1]:  # the last: controls outside
            if form.method.lower() == "post":
                continue
            for name, control in form.inputs.items():
                if control["type"] in FREE_TEXT and not any(
                    name == field for _, field in ALLOWED_GET_TEXT
                ):
                    offending.append((url, name))
    assert pages > 5
    assert offending == []


def test_a_get_with_an_id_number_runs_on_no_url_of_the_project(cast, household_a):
    """Every route, with every argument it needs filled with the household's: a GET whose query
    string holds an ID number, account or phone is redirected without it (pages) or refused
    with 400 (API); no answer carries the number in a Location."""
    client = login(cast.county)
    checked = 0
    for route in _all_routes():
        if "^" in route or "(?P" in route:
            continue  # Django's admin and static patterns: the middleware sees them like any path
        url = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(household_a.pk), route)
        for value in (ID_NUMBER, BANK_ACCOUNT, PHONE, f"%20{ID_NUMBER}"):
            response = client.get(f"{url}?q={value}&page=1")
            checked += 1
            if url.startswith("/api/"):
                assert response.status_code == 400, url
                assert "不能含有身份证号码" in response.json()["detail"], url
            else:
                assert response.status_code == 302, url
                assert value.strip("%20") not in response["Location"], url
                assert response["Location"].startswith(url), url
    assert checked > 400


def test_region_codes_pass_in_the_parameters_that_carry_them(cast, county):
    response = login(cast.county).get(f"/api/v1/regions/?parent__code={county.township1.code}")
    assert response.status_code == 200
    response = login(cast.county).get(f"/api/v1/households/?region={county.village_a.code}")
    assert response.status_code == 200
    response = login(cast.county).get(f"/api/v1/households/?status={county.village_a.code}")
    assert response.status_code == 400
