"""督查整改清单: states, who may move them, evidence, overdue marking, the quarterly ranking."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inspections import selectors, services
from inspections.models import InspectionEvent, RectificationItem
from tests.project import app_today


def item_for(cast, region, *, deadline, unit="县住建局", problem="危房改造未完成"):
    return services.rectification_create(
        actor=cast.county,
        region=region,
        source="supervision",
        data={
            "problem": problem,
            "category": "住房安全",
            "responsible_unit": unit,
            "responsible_person": "张三",
            "deadline": deadline,
        },
    )


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("整改照片.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")


def test_item_moves_through_its_states_with_events(cast, county):
    item = item_for(cast, county.village_a, deadline=app_today() + datetime.timedelta(days=10))
    item = services.rectification_transition(
        actor=cast.cadre, item=item, to_status="整改中", expected_version=item.version
    )
    with pytest.raises(ValidationError) as error:
        services.rectification_transition(actor=cast.cadre, item=item, to_status="已整改")
    assert set(error.value.message_dict) == {"measures", "evidence"}
    item = services.rectification_update(
        actor=cast.cadre,
        item=item,
        data={"measures": "已完成危房改造并入住"},
        expected_version=item.version,
    )
    services.rectification_evidence_add(actor=cast.cadre, item=item, file=photo())
    item = services.rectification_transition(actor=cast.cadre, item=item, to_status="已整改")
    assert item.done_at == app_today()
    with pytest.raises(PermissionDenied):
        services.rectification_transition(actor=cast.cadre, item=item, to_status="已销号")
    item = services.rectification_transition(actor=cast.county, item=item, to_status="已销号")
    assert item.status == "已销号" and item.verified_by == cast.county
    transitions = list(
        InspectionEvent.objects.filter(item=item, kind="item_changed")
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert transitions == [("待整改", "整改中"), ("整改中", "已整改"), ("已整改", "已销号")]
    with pytest.raises(ValidationError):
        services.rectification_update(
            actor=cast.county, item=item, data={"measures": "x"}, expected_version=item.version
        )


def test_cadre_edits_only_measures_and_only_in_own_village(cast, county):
    item = item_for(cast, county.village_a, deadline=app_today())
    services.rectification_update(
        actor=cast.cadre,
        item=item,
        data={"measures": "已制定方案", "responsible_unit": "某单位"},
        expected_version=item.version,
    )
    item.refresh_from_db()
    assert (item.measures, item.responsible_unit) == ("已制定方案", "县住建局")
    with pytest.raises(PermissionDenied):
        services.rectification_update(
            actor=cast.cadre2, item=item, data={"measures": "乙"}, expected_version=item.version
        )
    with pytest.raises(ValidationError) as error:
        services.rectification_update(
            actor=cast.cadre, item=item, data={"measures": "丙"}, expected_version=item.version - 1
        )
    assert error.value.code == "conflict"
    item.refresh_from_db()
    assert item.measures == "已制定方案"


def test_overdue_items_are_marked_once_and_stand_out(cast, county, client_for):
    late = item_for(
        cast,
        county.village_a,
        deadline=app_today() - datetime.timedelta(days=3),
        problem="饮水工程未完工",
    )
    on_time = item_for(cast, county.village_a, deadline=app_today() + datetime.timedelta(days=3))
    assert selectors.is_overdue(late) and not selectors.is_overdue(on_time)
    assert services.rectification_mark_overdue() == 1
    assert services.rectification_mark_overdue() == 0
    assert InspectionEvent.objects.filter(kind="item_overdue", item=late).count() == 1
    page = client_for(cast.cadre).get(reverse("inspections:rectification-list") + "?overdue=1")
    body = page.content.decode()
    assert page.status_code == 200
    assert "饮水工程未完工" in body and "危房改造未完成" not in body
    assert 'class="row-overdue"' in body
    assert page.context["counts"] == [
        ("待整改", "待整改", 2),
        ("整改中", "整改中", 0),
        ("已整改", "已整改", 0),
        ("已销号", "已销号", 0),
    ]
    assert page.context["overdue_count"] == 1
    # Closed in time is not overdue, whatever the date.
    assert not selectors.is_overdue(late, app_today() - datetime.timedelta(days=10))


def test_village_cadre_sees_only_own_items(cast, county, client_for):
    item_for(cast, county.village_a, deadline=app_today(), problem="甲村问题")
    item_for(cast, county.village_b, deadline=app_today(), problem="乙村问题")
    body = client_for(cast.cadre).get(reverse("inspections:rectification-list")).content.decode()
    assert "甲村问题" in body and "乙村问题" not in body
    other = RectificationItem.objects.get(problem="乙村问题")
    assert (
        client_for(cast.cadre)
        .get(reverse("inspections:rectification", args=[other.pk]))
        .status_code
        == 404
    )
    response = client_for(cast.auditor).post(
        reverse("inspections:rectification-transition", args=[other.pk]),
        {"to_status": "整改中", "version": other.version},
    )
    assert response.status_code == 403
    assert RectificationItem.objects.get(pk=other.pk).status == "待整改"


def test_quarterly_ranking_of_units_and_townships(cast, county):
    year, quarter = 2020, 2
    deadline = datetime.date(2020, 5, 15)
    fast = item_for(cast, county.village_a, deadline=deadline, unit="县水务局")
    slow = item_for(cast, county.village_b, deadline=deadline, unit="县住建局")
    item_for(cast, county.village_a, deadline=datetime.date(2020, 9, 1), unit="县住建局")
    RectificationItem.objects.filter(pk=fast.pk).update(
        status="已整改", done_at=datetime.date(2020, 5, 10), measures="m"
    )
    RectificationItem.objects.filter(pk=slow.pk).update(
        status="已整改", done_at=datetime.date(2020, 6, 1), measures="m"
    )
    ranking = selectors.rectification_ranking(
        user=cast.county, year=year, quarter=quarter, on=datetime.date(2020, 7, 1)
    )
    assert [(r["name"], r["rank"], r["on_time"], r["overdue"]) for r in ranking["units"]] == [
        ("县水务局", 1, 1, 0),
        ("县住建局", 2, 0, 1),
    ]
    assert [(r["name"], r["total"]) for r in ranking["townships"]] == [("新州镇", 1), ("旧州镇", 1)]
    assert ranking["start"] == datetime.date(2020, 4, 1)
    assert ranking["end"] == datetime.date(2020, 6, 30)
