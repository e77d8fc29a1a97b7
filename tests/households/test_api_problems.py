"""The problem data API (issue 16): the problems in scope, the village's explanation, the
township's review and the county's check as a job, with the pages' rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from households import quality
from households.models import DataProblem
from povertyapp import jobs
from povertyapp.models import Job, User
from tests import factories
from tests.conftest import login

PROBLEMS = reverse("problem-list")
CHECK = reverse("problem-check")


def post(user: User, url: str, data: dict) -> object:
    return login(user).post(url, data, content_type="application/json")


@pytest.fixture
def problems(cast, county) -> dict[str, DataProblem]:
    """A 因学 household without a student in villages A and B, checked by the county's job."""
    a = factories.household(actor=cast.county, village=county.village_a, main_cause="因学")
    b = factories.household(actor=cast.county, village=county.village_b, main_cause="因学")
    job = jobs.job_create(user=cast.county, kind=quality.JOB_KIND, region=county.county)
    assert jobs.job_run(job.pk).status == "succeeded"
    return {
        "a": DataProblem.objects.get(household=a, rule="cause_study"),
        "b": DataProblem.objects.get(household=b, rule="cause_study"),
    }


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_problems_are_listed_in_scope_with_filters(cast, county, problems):
    a, b = problems["a"].pk, problems["b"].pk
    query = {"rule": "cause_study"}
    assert _ids(login(cast.cadre).get(PROBLEMS, query)) == {a}
    assert _ids(login(cast.cadre2).get(PROBLEMS, query)) == {b}
    assert _ids(login(cast.county).get(PROBLEMS, query)) == {a, b}
    county_client = login(cast.county)
    assert _ids(county_client.get(PROBLEMS, {**query, "village": county.village_b.code})) == {b}
    assert _ids(county_client.get(PROBLEMS, {**query, "state": "accepted"})) == set()
    row = county_client.get(PROBLEMS, {**query, "village": county.village_b.code}).json()
    assert row["results"][0]["state"] == "open"
    assert row["results"][0]["rule_label"]
    assert row["results"][0]["field_label"] == "主要致贫原因"
    response = county_client.get(PROBLEMS, {"rule": "no-such-rule"})
    assert response.status_code == 400 and "rule" in response.json()
    url = reverse("problem-detail", args=[a])
    assert login(cast.cadre2).get(url).status_code == 404
    assert login(cast.cadre).get(url).json()["village_code"] == county.village_a.code
    assert login(cast.sysadmin).get(PROBLEMS).status_code == 403


def test_the_village_explains_and_the_township_reviews(cast, problems):
    problem = problems["a"]
    explain = reverse("problem-explain", args=[problem.pk])
    review = reverse("problem-review", args=[problem.pk])
    for user in (cast.township, cast.county, cast.auditor):
        assert post(user, explain, {"explanation": "x"}).status_code == 403
    assert post(cast.cadre2, explain, {"explanation": "x"}).status_code == 404
    response = post(cast.cadre, explain, {"explanation": "  "})
    assert response.status_code == 400
    assert response.json()["explanation"]
    # The township has nothing to review yet.
    response = post(cast.township, review, {"accept": True})
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["该问题没有待审核的说明。"]
    response = post(cast.cadre, explain, {"explanation": "该户子女在外省就读，学籍证明已存档"})
    assert response.status_code == 200
    assert response.json()["state"] == "explained"
    for user in (cast.cadre, cast.county, cast.auditor):
        assert post(user, review, {"accept": True}).status_code == 403
    response = post(cast.township, review, {"accept": False})
    assert response.status_code == 400
    assert response.json()["note"] == ["不认可须填写理由。"]
    response = post(cast.township, review, {"note": "x"})
    assert response.status_code == 400 and "accept" in response.json()
    response = post(cast.township, review, {"accept": True, "note": "属实"})
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["review_note"]) == ("accepted", "属实")
    problem.refresh_from_db()
    assert (problem.state, problem.reviewed_by) == (DataProblem.State.ACCEPTED, cast.township)


def test_the_county_runs_the_check_as_a_job(cast, county, django_capture_on_commit_callbacks):
    factories.household(actor=cast.county, village=county.village_a, cultivated_land=Decimal("150"))
    for user in (cast.cadre, cast.township, cast.auditor):
        assert post(user, CHECK, {}).status_code == 403
    response = post(cast.county, CHECK, {"region": "12"})
    assert response.status_code == 400 and "region" in response.json()
    assert post(cast.county, CHECK, {"region": "110000000000"}).status_code == 404
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(cast.county, CHECK, {"region": county.village_a.code})
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.region, job.created_by) == (
        quality.JOB_KIND,
        county.village_a,
        cast.county,
    )
    assert response.json()["url"] == reverse("job-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert DataProblem.objects.filter(rule="land_per_person").exists()


def test_the_api_lists_exactly_what_the_page_shows_for_every_role(cast, county):
    """Issue 16: the problem-data API is scoped like the quality page, role by role: a
    township sees its township's problems, the county all, a village its own, the helper its
    paired households' only, and the roles without case access (administrators, departments,
    the city's and the province's offices) neither (403 on both)."""
    made = {}
    for key, village in (
        ("a", county.village_a),
        ("a2", county.village_a2),
        ("b", county.village_b),
    ):
        household = factories.household(actor=cast.county, village=village, main_cause="因学")
        made[key] = household
    job = jobs.job_create(user=cast.county, kind=quality.JOB_KIND, region=county.county)
    assert jobs.job_run(job.pk).status == "succeeded"
    ids = {
        key: DataProblem.objects.get(household=household, rule="cause_study").pk
        for key, household in made.items()
    }
    role = User.Role
    users = {
        "cadre": (cast.cadre, {"a"}),
        "cadre2": (cast.cadre2, {"b"}),
        "township": (cast.township, {"a", "a2"}),
        "county": (cast.county, {"a", "a2", "b"}),
        "auditor": (cast.auditor, {"a", "a2", "b"}),
        "helper": (cast.helper, set()),
        "sysadmin": (cast.sysadmin, None),
        "secadmin": (cast.secadmin, None),
        "auditadmin": (cast.auditadmin, None),
        "city": (factories.user("city", role.CITY_OFFICER, county.city), None),
        "province": (factories.user("province", role.PROVINCE_OFFICER, county.province), None),
        "department": (
            factories.user("department", role.DEPARTMENT, county.county, department="education"),
            None,
        ),
    }
    query = {"rule": "cause_study", "state": "open"}
    seen = {}
    for name, (user, expected) in users.items():
        client = login(user)
        api = client.get(PROBLEMS, query)
        page = client.get(reverse("households:quality"), query)
        if expected is None:
            assert (api.status_code, page.status_code) == (403, 403), name
            for problem_id in ids.values():
                assert client.get(reverse("problem-detail", args=[problem_id])).status_code == 403
            seen[name] = None
            continue
        assert page.status_code == 200, name
        page_ids = {problem.pk for problem in page.context["page"].object_list}
        seen[name] = _ids(api)
        assert seen[name] == page_ids, name
        for key, problem_id in ids.items():
            detail = client.get(reverse("problem-detail", args=[problem_id]))
            assert detail.status_code == (200 if key in expected else 404), (name, key)
    assert seen == {
        name: None if expected is None else {ids[key] for key in expected}
        for name, (_user, expected) in users.items()
    }
