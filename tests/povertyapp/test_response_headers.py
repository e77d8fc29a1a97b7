"""Response headers: no-store on every dynamic response (personal data stays out of caches),
and no `Server` header naming gunicorn or its version."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from povertyapp.headers import NoStoreMiddleware
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def _parameterless_urls(patterns=None, prefix: str = "") -> list[str]:
    """Every URL of the URL conf that needs no argument (the admin's are Django's own)."""
    urls = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(pattern, URLResolver):
            if route == "admin/":
                continue
            urls += _parameterless_urls(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            urls.append("/" + prefix + route)
    return urls


def test_every_url_answers_no_store_to_a_signed_in_user(cast, household_a):
    urls = _parameterless_urls()
    assert len(urls) > 30
    client = login(cast.county)
    missing = {}
    for url in urls:
        response = client.get(url)
        cache_control = response.get("Cache-Control", "")
        if "no-store" not in cache_control:
            missing[url] = (response.status_code, cache_control)
    assert missing == {}


def test_pages_and_api_answers_about_one_household_are_no_store(cast, household_a):
    client = login(cast.cadre)
    urls = [
        f"/households/{household_a.pk}/",
        f"/households/{household_a.pk}/edit/",
        f"/assistance/households/{household_a.pk}/",
        f"/api/v1/households/{household_a.pk}/",
        f"/api/v1/households/{household_a.pk}/events/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store, private", url


def test_api_answers_no_store_with_a_token(cast):
    from django.test import Client

    from povertyapp import tokens

    _instance, secret = tokens.token_issue(user=cast.cadre)
    response = Client().get("/api/v1/households/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_a_view_that_chose_its_caching_keeps_it():
    def view(request):
        response = HttpResponse("public")
        response["Cache-Control"] = "public, max-age=60"
        return response

    response = NoStoreMiddleware(view)(RequestFactory().get("/"))
    assert response["Cache-Control"] == "public, max-age=60"


def test_a_response_without_cache_headers_gets_no_store():
    response = NoStoreMiddleware(lambda request: HttpResponse("x"))(RequestFactory().get("/"))
    assert response["Cache-Control"] == "no-store, private"


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    """A port nothing listens on, chosen by the kernel: the test always runs, wherever."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorn_with_the_project_config_sends_no_server_header(tmp_path):
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    server = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while _port_free(port):
            assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]  # stderr=PIPE: never None
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as answer:
            assert answer.status == 200
            assert answer.headers.get("Server") is None
            assert "gunicorn" not in str(answer.headers).lower()
            assert "no-store" in answer.headers["Cache-Control"]
    finally:
        server.terminate()
        server.wait(timeout=30)
