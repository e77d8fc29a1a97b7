"""The remaining pages render for the roles that use them, and the create forms write through
the services."""

from __future__ import annotations

import datetime

from django.urls import reverse

from inspections.models import Campaign, CorrectionTask, RectificationItem
from tests.inspections.conftest import confirm
from tests.project import app_today


def test_county_officer_launches_a_campaign_from_the_form(registry, cast, client_for):
    client = client_for(cast.county)
    assert client.get(reverse("inspections:campaign-create")).status_code == 200
    response = client.post(
        reverse("inspections:campaign-create"),
        {
            "name": "2020年县级自查",
            "kind": "self_check",
            "year": 2019,
            "visit_date": (app_today() + datetime.timedelta(days=3)).isoformat(),
            "end_date": (app_today() + datetime.timedelta(days=6)).isoformat(),
            "assessors": [cast.auditor.pk],
            "townships_to_draw": 2,
            "villages_per_township": 3,
            "households_per_village": 43,
            "inside_share": "0.50",
            "registered_kinds": ["unexited", "exited"],
        },
    )
    campaign = Campaign.objects.get(name="2020年县级自查")
    assert response.status_code == 302
    assert (campaign.launched_by, campaign.registered_kinds, campaign.status) == (
        cast.county,
        ["unexited", "exited"],
        "planned",
    )
    response = client.post(reverse("inspections:campaign-draw", args=[campaign.pk]), {"seed": "77"})
    campaign.refresh_from_db()
    assert response.status_code == 302 and campaign.seed == 77 and campaign.status == "drawn"
    # Only the county office launches.
    assert client_for(cast.township).get(reverse("inspections:campaign-create")).status_code == 403


def test_rectification_pages_and_task_list_render(
    registry, cast, county, client_for, campaign_factory
):
    from inspections import services

    campaign = services.campaign_draw(
        actor=cast.county, campaign=campaign_factory(visit_date=app_today()), seed=3
    )
    sample = campaign.households.filter(
        kind="unexited", sample_village__village=county.village_a
    ).first()
    confirm(cast.auditor, sample, "错评")
    item = RectificationItem.objects.get()
    for user in (cast.county, cast.cadre, cast.township):
        client = client_for(user)
        for url in (
            reverse("inspections:rectification", args=[item.pk]),
            reverse("inspections:rectification-ranking"),
            reverse("inspections:rectification-ranking") + "?year=2020&quarter=3",
            reverse("inspections:tasks"),
            reverse("inspections:campaigns"),
        ):
            assert client.get(url).status_code == 200, (user, url)
    body = client_for(cast.cadre).get(reverse("inspections:tasks")).content.decode()
    assert sample.number in body and "剔除" in body
    assert client_for(cast.cadre2).get(reverse("inspections:tasks")).context["tasks"] == []
    client = client_for(cast.county)
    response = client.post(
        reverse("inspections:rectification-create"),
        {
            "region": county.village_b.pk,
            "source": "supervision",
            "problem": "公示栏信息未更新",
            "category": "档案资料",
            "responsible_unit": "旧州镇人民政府",
            "responsible_person": "李四",
            "deadline": "2026-12-31",
            "measures": "",
        },
    )
    assert response.status_code == 302
    assert (
        RectificationItem.objects.filter(
            problem="公示栏信息未更新", region=county.village_b
        ).count()
        == 1
    )
    assert CorrectionTask.objects.count() == 1
