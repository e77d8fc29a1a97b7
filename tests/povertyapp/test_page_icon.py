"""Every full page names the app's icon, so that no browser asks for /favicon.ico (a 404 and a
rendered error page per visit): each template that writes `<html>` links the icon."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

ICON = '<link rel="icon" type="image/png" href="{% static \'icons/app-192.png\' %}">'


def test_every_template_that_writes_a_whole_page_links_the_icon():
    pages = [
        path
        for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
        if "<html" in path.read_text(encoding="utf-8")
    ]
    assert len(pages) >= 4
    missing = [str(path) for path in pages if ICON not in path.read_text(encoding="utf-8")]
    assert not missing, missing
    admin = Path(settings.BASE_DIR, "templates/admin/base_site.html").read_text(encoding="utf-8")
    assert ICON in admin
    assert Path(settings.STATICFILES_DIRS[0], "icons/app-192.png").exists()


def test_a_page_and_the_admin_link_the_icon(client, cast):
    from tests.conftest import login

    assert b'rel="icon"' in client.get("/accounts/login/").content
    assert b'rel="icon"' in login(cast.sysadmin).get("/admin/").content
