"""Per-user rate limits on searches, exports and the API (issue 14, 数据保密性): over the budget a
request is refused with 429 and a Chinese message, and an audit row says who and which budget;
each user has their own counter."""

from __future__ import annotations

from django.urls import reverse

from povertyapp.models import AccessLog
from tests.conftest import login

MESSAGE = "操作过于频繁，请稍后再试。"


def _refusals(user) -> list[AccessLog]:
    return list(AccessLog.objects.filter(action=AccessLog.Action.RATE_LIMITED, user=user))


def _search(client, text: str):
    location = client.post("/households/", {"search_terms": "q", "q": text})["Location"]
    return client.get(location)


def test_household_searches_over_the_limit_are_refused_and_logged(settings, cast, household_a):
    settings.RATE_LIMIT_SEARCH = "3/m"
    client = login(cast.cadre)
    assert [_search(client, "张").status_code for _ in range(3)] == [200, 200, 200]
    refused = _search(client, "张")
    assert refused.status_code == 429
    assert MESSAGE in refused.content.decode()
    assert "60秒" in refused.content.decode()
    assert refused["Retry-After"] == "60"
    [row] = _refusals(cast.cadre)
    assert (row.target, row.outcome, row.reason) == (
        "search",
        AccessLog.Outcome.REFUSED,
        "RATE_LIMIT_SEARCH 3/m",
    )
    assert row.request_id and row.role == cast.cadre.role
    # The list without a search is not a search: still open.
    assert client.get("/households/").status_code == 200


def test_search_counters_are_per_user(settings, cast, household_a):
    settings.RATE_LIMIT_SEARCH = "2/m"
    cadre, county = login(cast.cadre), login(cast.county)
    assert [_search(cadre, "张").status_code for _ in range(3)] == [200, 200, 429]
    assert [_search(county, "张").status_code for _ in range(2)] == [200, 200]
    assert _refusals(cast.county) == []


def test_assistance_search_counts_as_a_search(settings, cast, household_a):
    settings.RATE_LIMIT_SEARCH = "1/m"
    client = login(cast.cadre)
    url = "/assistance/households/"
    first = client.post(url, {"search_terms": "q", "q": household_a.number})["Location"]
    assert client.get(first).status_code == 200
    assert client.get(first).status_code == 429


def test_ledger_exports_over_the_limit_are_refused_and_logged(settings, cast, household_a):
    settings.RATE_LIMIT_EXPORT = "2/h"
    client = login(cast.county)
    url = reverse("ledgers:export")
    export = {"ledger": "households", "reason": "年度动态调整核查"}
    codes = [client.post(url, export).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count() == 2
    [row] = _refusals(cast.county)
    assert (row.target, row.reason) == ("export", "RATE_LIMIT_EXPORT 2/h")
    assert login(cast.cadre).post(url, {"ledger": "households"}).status_code == 200


def test_api_reads_over_the_limit_answer_429_in_chinese_and_are_logged(settings, cast, household_a):
    settings.RATE_LIMIT_API = "3/m"
    client = login(cast.cadre)
    codes = [client.get("/api/v1/households/", {"page": 1}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get(f"/api/v1/households/{household_a.pk}/")
    assert refused.status_code == 429
    assert refused.json() == {"detail": MESSAGE}
    assert 0 < int(refused["Retry-After"]) <= 60
    rows = _refusals(cast.cadre)
    assert [(row.target, row.reason) for row in rows] == [("api", "RATE_LIMIT_API 3/m")] * 2
    assert sorted(row.detail["path"] for row in rows) == [
        "/api/v1/households/",
        f"/api/v1/households/{household_a.pk}/",
    ]
    # Another user's budget is untouched.
    assert login(cast.county).get("/api/v1/households/").status_code == 200


def test_api_search_has_its_own_budget_on_top_of_the_api_one(settings, cast, household_a):
    settings.RATE_LIMIT_SEARCH = "2/m"
    client = login(cast.cadre)
    url = "/api/v1/households/search/"
    codes = [
        client.post(url, {"q": "张"}, content_type="application/json").status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    [row] = _refusals(cast.cadre)
    assert row.target == "search"
    assert client.get("/api/v1/households/").status_code == 200  # reads are the API's budget


def test_api_token_clients_are_limited_per_user(settings, cast):
    from django.test import Client
    from knox.models import AuthToken

    settings.RATE_LIMIT_API = "1/m"
    _token, secret = AuthToken.objects.create(user=cast.cadre)
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/v1/regions/").status_code == 200
    assert client.get("/api/v1/regions/").status_code == 429
