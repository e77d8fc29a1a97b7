"""Production static files: collectstatic with the production storage succeeds (vendored files
that name a source map which is not shipped included), every `{% static %}` reference of every
template is in the manifest, pages link the hashed files, and whitenoise serves them with a
long cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from whitenoise.middleware import WhiteNoiseMiddleware

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
STATIC_REFERENCE = re.compile(r"""\{% static ['"]([^'"]+)['"] %\}""")
HASHED = re.compile(r"\.[0-9a-f]{12}\.")


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "povertyapp.staticfiles.ProductionStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


def _template_static_references() -> set[str]:
    references = set()
    for directory in django_settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).rglob("*.html"):
            references |= set(STATIC_REFERENCE.findall(path.read_text(encoding="utf-8")))
    return references


def test_every_static_reference_of_every_template_is_in_the_manifest(collected):
    references = _template_static_references()
    assert {"css/app.css", "vendor/htmx/htmx.min.js", "js/behaviours.js"} <= references
    for name in sorted(references):
        url = staticfiles_storage.url(name)  # raises for a name missing from the manifest
        assert HASHED.search(url), url
        assert (collected / url.removeprefix("/static/")).is_file(), url


def test_a_vendored_css_naming_a_missing_source_map_is_collected_without_it(collected):
    hashed = staticfiles_storage.stored_name("vendor/swagger-ui/swagger-ui.css")
    assert "sourceMappingURL" in (ROOT / "static/vendor/swagger-ui/swagger-ui.css").read_text()
    assert "sourceMappingURL" not in (collected / hashed).read_text()


def test_a_missing_file_referenced_by_our_css_still_fails_the_build(settings, tmp_path):
    source = tmp_path / "source"
    (source / "css").mkdir(parents=True)
    (source / "css" / "broken.css").write_text('body { background: url("missing.png"); }')
    settings.STATICFILES_DIRS = [source]
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django.contrib.admin"]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "povertyapp.staticfiles.ProductionStaticFilesStorage"},
    }
    with pytest.raises(ValueError, match="missing.png"):
        call_command("collectstatic", "--noinput", verbosity=0)


def test_pages_link_hashed_files_that_exist(collected, cast, household_a):
    client = login(cast.county)
    urls = [
        reverse("login"),
        reverse("home"),
        reverse("households:list"),
        reverse("households:detail", args=[household_a.pk]),
        reverse("households:edit", args=[household_a.pk]),
        reverse("api-docs"),
        "/no-such-page/",
    ]
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code in (200, 404), url
        linked = re.findall(r"""(?:href|src)="(/static/[^"]+)\"""", response.content.decode())
        assert linked, url
        for static_url in linked:
            assert HASHED.search(static_url), (url, static_url)
            assert (collected / static_url.removeprefix("/static/")).is_file(), static_url


def test_whitenoise_serves_hashed_files_with_a_long_cache_and_no_no_store(collected, settings):
    settings.DEBUG = False
    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    url = staticfiles_storage.url("css/app.css")
    response = middleware(RequestFactory().get(url))
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
