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
