"""403, 404, 400 and 500 pages: the site's layout, the user's language, a way back, the reason a
view gave, and on a 500 an error id that is in the log. DEBUG is off in tests (pytest-django)."""

from __future__ import annotations

import ast
import logging
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from povertyapp import errors
from tests.conftest import login
from tests.project import PROJECT_APPS

ROOT = Path(__file__).resolve().parents[2]


def _english(client: Client) -> Client:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def _in_layout(html: str) -> None:
    assert '<header class="topbar">' in html
    assert 'class="card error-page"' in html
    assert 'href="/"' in html  # the way back to the work desk


def test_403_shows_the_views_reason_in_chinese_with_the_layout_and_the_menu(cast):
    response = login(cast.sysadmin).get(reverse("households:list"))
    html = response.content.decode()
    assert response.status_code == 403
    _in_layout(html)
    assert "<h1>没有权限</h1>" in html
    assert "<strong>原因：</strong> 您的账号不查看农户信息。" in html
    assert "返回工作台" in html
    assert '<nav class="mainnav">' in html  # the signed-in user keeps the menu
    assert response["Content-Language"] == "zh-hans"


def test_403_in_english(cast):
    client = _english(login(cast.helper))
    response = client.get(reverse("ledgers:index"))
    html = response.content.decode()
    assert response.status_code == 403
    _in_layout(html)
    assert "<h1>Access denied</h1>" in html
    assert "<strong>Reason:</strong> Your role cannot use ledgers." in html
    assert "Back to the work desk" in html


def test_404_in_chinese_and_english(cast):
    client = login(cast.cadre)
    response = client.get("/households/999999999/")
    html = response.content.decode()
    assert response.status_code == 404
    _in_layout(html)
    assert "<h1>页面不存在</h1>" in html
    assert "您要找的页面或记录不存在，或不在您的管辖范围内。" in html
    response = _english(client).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    _in_layout(html)
    assert "<h1>Page not found</h1>" in html


@pytest.mark.django_db
def test_404_for_an_anonymous_visitor_has_the_layout_and_no_menu():
    response = Client().get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    _in_layout(html)
    assert '<nav class="mainnav">' not in html


@override_settings(ROOT_URLCONF="tests.povertyapp.error_urls")
def test_500_shows_an_error_id_that_the_log_records_with_the_traceback(cast, caplog):
    client = login(cast.cadre)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="povertyapp.errors"):
        response = client.get("/test-failure/")
    html = response.content.decode()
    assert response.status_code == 500
    _in_layout(html)
    assert "<h1>系统出错了</h1>" in html
    error_id = response["X-Error-Id"]
    assert len(error_id) == 12
    assert f'<code class="error-id">{error_id}</code>' in html
    records = [r for r in caplog.records if r.name == "povertyapp.errors"]
    assert len(records) == 1
    assert records[0].getMessage() == f"Server error {error_id}: GET /test-failure/"
    assert records[0].exc_info is not None
    assert str(records[0].exc_info[1]) == "boom: an unexpected failure"


@override_settings(ROOT_URLCONF="tests.povertyapp.error_urls")
def test_500_in_english(cast):
    client = _english(login(cast.cadre))
    client.raise_request_exception = False
    response = client.get("/test-failure/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert f'Error id: <code class="error-id">{response["X-Error-Id"]}</code>' in html


def test_500_renders_without_the_database_or_the_user(django_db_blocker):
    request = RequestFactory().get("/anything/")
    with django_db_blocker.block():
        try:
            raise RuntimeError("the database is gone")
        except RuntimeError:
            response = errors.server_error(request)
    assert response.status_code == 500
    assert "系统出错了" in response.content.decode()


def test_400_renders_without_the_database(django_db_blocker):
    request = RequestFactory().get("/anything/")
    with django_db_blocker.block():
        response = errors.bad_request(request, Exception("bad"))
    assert response.status_code == 400
    assert "<h1>请求有误</h1>" in response.content.decode()


@pytest.mark.django_db
def test_a_disallowed_host_gets_the_400_page():
    response = Client().get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert "<h1>请求有误</h1>" in response.content.decode()


def test_a_csrf_failure_is_a_403_in_the_layout_that_says_what_to_do(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.cadre, backend="povertyapp.backends.ModelBackendWithRegion")
    response = client.post("/i18n/setlang/", {"language": "en"})
    html = response.content.decode()
    assert response.status_code == 403
    _in_layout(html)
    assert "<h1>页面已过期</h1>" in html
    assert "请返回上一页，刷新后重新提交。" in html


def test_a_permission_denied_without_a_message_shows_no_reason():
    request = RequestFactory().get("/x/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = errors.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "error-reason" not in response.content.decode()


def _permission_denied_raises() -> list[tuple[str, int, ast.Call]]:
    found = []
    for app in PROJECT_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                    func = node.exc.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name == "PermissionDenied":
                        found.append((str(path.relative_to(ROOT)), node.lineno, node.exc))
    return found


def test_every_permission_denied_of_the_project_carries_a_translated_message():
    """The 403 page shows the message: it must be for the user, in the user's language."""
    raises = _permission_denied_raises()
    assert len(raises) > 40
    untranslated = []
    for path, line, call in raises:
        if not call.args:
            continue
        message = call.args[0]
        # `_("…%(kind)s…") % {...}`: the translated text, filled in.
        if isinstance(message, ast.BinOp) and isinstance(message.op, ast.Mod):
            message = message.left
        is_translated = isinstance(message, ast.Call) and getattr(message.func, "id", "") in {
            "_",
            "gettext",
            "gettext_lazy",
        }
        # `str(exc)` of a DRF handler re-raising one that was translated where it was raised.
        is_passed_on = isinstance(message, ast.BoolOp | ast.Call | ast.Name) and not isinstance(
            message, ast.Constant
        )
        if not (is_translated or (is_passed_on and "exception_handlers" in path)):
            untranslated.append(f"{path}:{line}")
    assert untranslated == []


def test_handlers_are_registered():
    from povertyapp import urls

    assert urls.handler400 == "povertyapp.errors.bad_request"
    assert urls.handler403 == "povertyapp.errors.permission_denied"
    assert urls.handler404 == "povertyapp.errors.page_not_found"
    assert urls.handler500 == "povertyapp.errors.server_error"
    assert sys.modules["povertyapp.errors"] is errors
