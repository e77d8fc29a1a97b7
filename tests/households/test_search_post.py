"""The household list's search goes by POST and is shown behind a token (issue 14: no ID
numbers in URLs): the search box posts, paging, sorting and filters keep the search, a GET with
an ID number is not run, a token is useless to another user, and the export of the searched list
and the API's POST search work."""

from __future__ import annotations

import io
import logging

import openpyxl
from django.urls import reverse

from povertyapp.models import AccessLog
from povertyapp.templatetags.pages import page_href
from tests import factories
from tests.conftest import login
from tests.html_forms import form_holding


def _head_id(household) -> str:
    return factories.active_members(household)[0].id_number


def _search(client, text: str, **filters: str):
    return client.post("/households/", {"search_terms": "q", "q": text, **filters})


def test_the_search_box_posts_and_the_list_shows_behind_a_token(cast, household_a, household_b):
    client = login(cast.county)
    page = client.get("/households/").content.decode()
    form = form_holding(page, "q")
    assert form.method == "post"
    assert form.inputs["search_terms"]["value"] == "q"
    id_number = _head_id(household_a)
    response = _search(client, id_number, status="poor", ordering="number")
    assert response.status_code == 302
    location = response["Location"]
    assert id_number not in location
    assert location.startswith("/households/?")
    assert "status=poor" in location and "ordering=number" in location and "qt=" in location
    shown = client.get(location)
    assert [row["number"] for row in shown.context["page"].object_list] == [household_a.number]
    # The box shows what was searched; the page's own links carry the token, not the number.
    assert form_holding(shown.content.decode(), "q").inputs["q"]["value"] == id_number
    link = page_href({"request": shown.wsgi_request}, 2)  # the pager's link to page 2
    assert id_number not in link and "qt=" in link


def test_paging_sorting_and_filters_keep_the_search(cast, county, household_a):
    client = login(cast.county)
    response = _search(client, "张")  # a name: through the token as well
    location = response["Location"]
    assert "张" not in location and "%E5%BC%A0" not in location
    token = location.split("qt=")[1]
    village = f"&village={county.village_a.pk}"
    for extra in ("&page=1", "&ordering=-updated", "&status=poor", village):
        shown = client.get(f"/households/?qt={token}{extra}")
        assert shown.status_code == 200, extra
        assert shown.context["filter"].form["q"].value() == "张", extra
    # A new search replaces the old one; the old token still shows its own search (back button).
    newer = _search(client, household_a.number)["Location"].split("qt=")[1]
    assert newer != token
    assert client.get(f"/households/?qt={token}").context["filter"].form["q"].value() == "张"


def test_an_empty_search_shows_the_whole_list_without_a_token(cast, household_a):
    response = _search(login(cast.county), "  ", status="poor")
    assert response["Location"] == "/households/?status=poor"


def test_a_get_with_an_id_number_is_redirected_without_it_and_logs_nothing(
    cast, household_a, caplog
):
    client = login(cast.cadre)
    id_number = _head_id(household_a)
    before = AccessLog.objects.count()
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/households/?q={id_number}&status=poor")
    assert response.status_code == 302
    assert id_number not in response["Location"]
    assert "status=poor" in response["Location"] and "qt=" in response["Location"]
    assert all(id_number not in record.getMessage() for record in caplog.records)
    assert AccessLog.objects.count() == before
    # The search was kept, not lost: the token finds the household.
    shown = client.get(response["Location"])
    assert [row["number"] for row in shown.context["page"].object_list] == [household_a.number]
    assert "不会显示在网址中" in shown.content.decode()


def test_a_get_with_a_name_is_moved_into_a_token_too(cast, household_a):
    response = login(cast.county).get("/households/", {"q": "张三", "status": "poor"})
    assert response.status_code == 302
    assert "q=" not in response["Location"] and "qt=" in response["Location"]


def test_a_token_is_useless_to_another_user_and_on_another_page(cast, household_a):
    token = _search(login(cast.cadre), _head_id(household_a))["Location"].split("qt=")[1]
    other = login(cast.county)
    response = other.get(f"/households/?qt={token}&status=poor")
    assert response.status_code == 302
    assert response["Location"] == "/households/?status=poor"
    shown = other.get(response["Location"])
    assert "搜索条件已过期" in shown.content.decode()
    # The token of the household list names nothing on the assistance list.
    owner = login(cast.cadre)
    token = _search(owner, _head_id(household_a))["Location"].split("qt=")[1]
    assert owner.get(f"/assistance/households/?qt={token}").status_code == 302


def test_the_token_ends_with_the_session(cast, household_a):
    client = login(cast.cadre)
    location = _search(client, _head_id(household_a))["Location"]
    client.logout()
    client.force_login(cast.cadre, backend="povertyapp.backends.ModelBackendWithRegion")
    assert client.get(location).status_code == 302


def test_the_export_of_the_searched_list_posts_the_search(cast, household_a, household_b):
    client = login(cast.county)
    page = client.get(reverse("ledgers:index")).content.decode()
    assert form_holding(page, "q").method == "post"
    response = client.post(
        reverse("ledgers:export"),
        {"ledger": "households", "q": _head_id(household_a), "reason": "核对户籍信息"},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(body))["户台账"]
    numbers = [row[1] for row in sheet.iter_rows(min_row=6, values_only=True) if row[1]]
    assert numbers == [household_a.number, "共1户"]  # the row and the total line


def test_the_assistance_list_searches_by_post(cast, household_a):
    client = login(cast.county)
    page = client.get("/assistance/households/").content.decode()
    assert form_holding(page, "q").method == "post"
    response = client.post(
        "/assistance/households/", {"search_terms": "q", "q": household_a.number}
    )
    assert household_a.number not in response["Location"]
    shown = client.get(response["Location"])
    assert [household.number for household in shown.context["page"].object_list] == [
        household_a.number
    ]


def test_the_api_refuses_an_id_number_in_a_url_and_names_the_post_search(cast, household_a):
    client = login(cast.cadre)
    response = client.get("/api/v1/households/", {"q": _head_id(household_a)})
    assert response.status_code == 400
    assert "POST /api/v1/households/search/" in response.json()["detail"]
    assert "身份证号码" in response.json()["detail"]


def test_the_api_search_finds_by_id_number_in_the_body_and_is_scoped(
    cast, household_a, household_b
):
    id_number = _head_id(household_a)
    response = login(cast.cadre).post(
        "/api/v1/households/search/", {"q": id_number}, content_type="application/json"
    )
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [household_a.number]
    outside = login(cast.cadre2).post(
        "/api/v1/households/search/", {"q": id_number}, content_type="application/json"
    )
    assert outside.json()["count"] == 0
    paged = login(cast.county).post(
        "/api/v1/households/search/?page_size=1",
        {"status": "poor", "ordering": "-number"},
        content_type="application/json",
    )
    assert paged.status_code == 200
    assert len(paged.json()["results"]) == 1


def test_the_api_search_refuses_bad_filters_in_chinese(cast):
    response = login(cast.cadre).post(
        "/api/v1/households/search/", {"year": 1900}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "year" in response.json()


def test_the_schema_has_the_post_search_and_no_free_text_in_the_list(cast):
    response = login(cast.cadre).get(
        "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/households/search/"]
    list_parameters = {p["name"] for p in paths["/api/v1/households/"]["get"]["parameters"]}
    assert "q" not in list_parameters
    assert "status" in list_parameters


def test_a_name_search_builds_no_queryset_of_the_filter(cast, household_a, monkeypatch):
    """A name search is counted from the matching members, and its page cut from the ids that
    count read (`selectors._name_matches`): the filter's own queryset, whose name condition
    alone cost a millisecond of the page's Python, is never built for it."""
    from households.filters import HouseholdFilter

    built = []
    original = HouseholdFilter.filter_queryset
    monkeypatch.setattr(
        HouseholdFilter,
        "filter_queryset",
        lambda self, queryset: built.append(1) or original(self, queryset),
    )
    client = login(cast.county)
    shown = client.get(_search(client, "张", status="poor")["Location"])
    assert [row["number"] for row in shown.context["page"].object_list] == [household_a.number]
    assert built == []
    client.get("/households/?status=poor&cause=缺技术")  # any other filter builds it
    assert built == [1]
