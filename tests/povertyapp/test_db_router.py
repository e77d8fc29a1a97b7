"""The read-replica router (issue 19, povertyapp/db_router.py) and read-your-writes
(povertyapp.middleware.ReplicaStickyMiddleware).

Under pytest the `replica` alias is a TEST MIRROR of `default` (the same test database, another
connection), so which server a statement went to is seen by the connection that ran it. The
tests are transactional: inside a test's own transaction every read stays on the primary, by
the rule under test. `tests/povertyapp/test_replica_streaming.py` runs against a real standby.
"""

from __future__ import annotations

import datetime
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from povertyapp import db_router
from povertyapp.middleware import ReplicaStickyMiddleware
from povertyapp.models import Region
from povertyapp.services import region_create
from tests import factories

BOTH = ["default", "replica"]


@pytest.fixture
def replica_on(settings):
    settings.REPLICA_READS = True
    settings.REPLICA_STICKY_SECONDS = 15
    cache.clear()
    return settings


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_reads_inside_read_from_replica_run_on_the_replica(replica_on):
    factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        with db_router.read_from_replica():
            names = list(Region.objects.values_list("name", flat=True))
        outside = Region.objects.count()
    assert names == ["贵州省"]
    assert outside == 1
    assert len(replica.captured_queries) == 1
    assert "povertyapp_region" in _statements(replica)[0]
    assert len(primary.captured_queries) == 1  # the count, after the block
    assert "COUNT" in _statements(primary)[0].upper()


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_read_from_replica_is_also_a_decorator(replica_on):
    @db_router.read_from_replica()
    def alias_here() -> str:
        return db_router.read_alias()

    assert alias_here() == "replica"
    assert db_router.read_alias() == "default"


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_writes_inside_read_from_replica_go_to_the_primary(replica_on):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
        db_router.read_from_replica(),
    ):
        region = region_create(
            code="520000000000", name="贵州省", level=Region.Level.PROVINCE, is_western=True
        )
        Region.objects.filter(pk=region.pk).update(name="贵州")
    assert replica.captured_queries == []
    written = " ".join(_statements(primary)).upper()
    assert "INSERT INTO" in written and "UPDATE" in written
    assert Region.objects.get(pk=region.pk).name == "贵州"


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_reads_inside_a_transaction_stay_on_the_primary(replica_on):
    """A write transaction reads its own uncommitted rows: only the primary has them."""
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        db_router.read_from_replica(),
        transaction.atomic(),
    ):
        factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
        assert db_router.read_alias() == "default"
        assert Region.objects.filter(code="520000000000").exists() is True
    assert replica.captured_queries == []


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_without_a_replica_every_read_is_on_the_primary(settings):
    settings.REPLICA_READS = False
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        db_router.read_from_replica(catch_up=True),
    ):
        assert db_router.read_alias() == "default"
        assert Region.objects.count() == 0
    assert replica.captured_queries == []


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_pinned_reads_stay_on_the_primary(replica_on):
    with db_router.read_from_replica(), db_router.pinned_to_primary():
        assert db_router.read_alias() == "default"
    with db_router.pinned_to_primary(False), db_router.read_from_replica():
        assert db_router.read_alias() == "replica"


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_job_whose_replica_lags_reads_from_the_primary(replica_on, monkeypatch):
    """`catch_up`: the replica did not replay the primary's position in time."""
    monkeypatch.setattr(db_router, "_caught_up", lambda: False)
    with db_router.read_from_replica(catch_up=True):
        assert db_router.read_alias() == "default"
    monkeypatch.setattr(db_router, "_caught_up", lambda: True)
    with db_router.read_from_replica(catch_up=True):
        assert db_router.read_alias() == "replica"


def test_the_router_sends_writes_and_migrations_to_the_primary():
    router = db_router.ReplicaRouter()
    with db_router.read_from_replica():
        assert router.db_for_write(Region) == "default"
    assert router.allow_migrate("replica", "povertyapp") is False
    assert router.allow_migrate("default", "povertyapp") is True


# --- read-your-writes: the middleware ------------------------------------------------------------


def _alias_view(request: HttpRequest) -> HttpResponse:
    with db_router.read_from_replica():
        return HttpResponse(db_router.read_alias())


def _middleware() -> ReplicaStickyMiddleware:
    return ReplicaStickyMiddleware(_alias_view)


def _with_cookies(request: HttpRequest, response: HttpResponse) -> HttpRequest:
    request.COOKIES = {name: morsel.value for name, morsel in response.cookies.items()}
    return request


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_write_pins_the_browser_to_the_primary_for_the_window(replica_on):
    factory = RequestFactory()
    middleware = _middleware()
    assert middleware(factory.get("/dashboards/")).content == b"replica"
    posted = middleware(factory.post("/households/1/edit/"))
    assert posted.content == b"replica"  # pinned from the next request on
    cookie = posted.cookies[ReplicaStickyMiddleware.COOKIE]
    assert cookie["max-age"] == 15
    assert cookie["httponly"] is True
    assert middleware(_with_cookies(factory.get("/dashboards/"), posted)).content == b"default"
    # Past the window the signed cookie no longer pins, even if the browser still sends it.
    later = time.time() + 16
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert middleware(_with_cookies(factory.get("/dashboards/"), posted)).content == b"replica"
    # A cookie not signed by the server pins nothing.
    forged = factory.get("/dashboards/")
    forged.COOKIES = {ReplicaStickyMiddleware.COOKIE: "1"}
    assert middleware(forged).content == b"replica"


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_safe_methods_do_not_pin(replica_on):
    factory = RequestFactory()
    middleware = _middleware()
    for request in (factory.get("/"), factory.head("/"), factory.options("/")):
        assert ReplicaStickyMiddleware.COOKIE not in middleware(request).cookies
    for request in (factory.put("/"), factory.patch("/"), factory.delete("/")):
        assert ReplicaStickyMiddleware.COOKIE in middleware(request).cookies


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_write_with_an_api_token_pins_that_token(replica_on):
    """API clients send no cookie: the token (its digest, in the shared cache) is pinned."""
    factory = RequestFactory()
    middleware = _middleware()
    token = {"HTTP_AUTHORIZATION": "Token 0123456789abcdef"}
    other = {"HTTP_AUTHORIZATION": "Token fedcba9876543210"}
    assert middleware(factory.get("/api/v1/households/", **token)).content == b"replica"
    middleware(factory.post("/api/v1/cases/", **token))
    assert middleware(factory.get("/api/v1/households/", **token)).content == b"default"
    assert middleware(factory.get("/api/v1/households/", **other)).content == b"replica"
    assert middleware(factory.get("/api/v1/households/")).content == b"replica"
    key = ReplicaStickyMiddleware._token_key(factory.get("/", **token))
    assert "0123456789abcdef" not in key  # the token itself is never stored
    cache.delete(key)  # the cache entry expires with the window
    assert middleware(factory.get("/api/v1/households/", **token)).content == b"replica"


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_without_a_replica_the_middleware_sets_nothing(settings):
    settings.REPLICA_READS = False
    response = _middleware()(RequestFactory().post("/households/1/edit/"))
    assert response.content == b"default"
    assert ReplicaStickyMiddleware.COOKIE not in response.cookies


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_sign_in_through_the_site_pins_the_browser(replica_on, client):
    response = client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert response.status_code == 200  # the form again, with its error
    assert ReplicaStickyMiddleware.COOKIE in response.cookies


# --- the time the data stands at ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_data_as_of_is_the_primarys_time_without_a_replica(settings):
    settings.REPLICA_READS = False
    before = timezone.now()
    with db_router.read_from_replica():
        as_of = db_router.data_as_of()
    assert as_of is not None
    assert before - datetime.timedelta(seconds=1) <= as_of <= timezone.now()
