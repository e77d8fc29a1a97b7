"""Projects pass 申报 → 审批 → 公告公示 before money moves: who may do each step, the 公示
period, the movement refused before it ends, the events, and the data migration."""

from __future__ import annotations

import datetime
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from assistance import services
from assistance.models import AssistanceEvent, FundMovement, Project

CENTRAL = "中央财政专项扶贫资金"


def _declare(actor, village, **extra):
    return services.project_create(
        actor=actor,
        data={
            "name": "西垭村产业路",
            "category": "基础设施",
            "region": village,
            "year": 2020,
            "responsible_unit": "县交通局",
            **extra,
        },
        fundings={CENTRAL: "30000"},
    )


def _allocate(actor, project, day=datetime.date(2020, 3, 1)):
    return services.fund_movement_record(
        actor=actor,
        project=project,
        kind="allocated",
        source=CENTRAL,
        amount="1000",
        date=day,
        document_number="黄扶发〔2020〕9号",
    )


def _code(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return next(iter(error.error_dict.values()))[0].code
    return error.code


def test_township_declares_and_the_county_approves_and_publishes(cast, county):
    project = _declare(cast.township, county.village_a)
    assert project.approval == Project.Approval.DECLARED
    with pytest.raises(ValidationError) as refused:
        services.project_approve(
            actor=cast.township, project=project, approved_on=datetime.date(2020, 1, 2)
        )
    assert _code(refused.value) == "read_only"
    services.project_approve(
        actor=cast.county,
        project=project,
        approved_on=datetime.date(2020, 1, 2),
        document_number="黄扶办〔2020〕1号",
    )
    project = services.project_publish(
        actor=cast.county, project=project, start=datetime.date(2020, 1, 3)
    )
    assert (project.approval, project.publicity_start, project.publicity_end) == (
        Project.Approval.PUBLISHED,
        datetime.date(2020, 1, 3),
        datetime.date(2020, 1, 12),
    )
    kinds = list(
        AssistanceEvent.objects.filter(project=project)
        .order_by("id")
        .values_list("kind", "actor__username")
    )
    assert kinds == [
        ("project_created", "township"),
        ("project_approved", "county"),
        ("project_published", "county"),
    ]
    _allocate(cast.county, project)
    assert FundMovement.objects.filter(project=project).count() == 1


def test_township_cannot_declare_outside_its_township_nor_a_cadre_at_all(cast, county):
    with pytest.raises(ValidationError) as outside:
        _declare(cast.township, county.village_b)
    assert _code(outside.value) == "out_of_scope"
    with pytest.raises(ValidationError) as cadre:
        _declare(cast.cadre, county.village_a)
    assert _code(cadre.value) == "read_only"
    assert Project.objects.count() == 0


def test_a_fund_movement_before_publicity_is_refused(cast, county):
    project = _declare(cast.county, county.village_a)
    with pytest.raises(ValidationError) as declared:
        _allocate(cast.county, project)
    assert _code(declared.value) == "not_published"
    assert "已申报" in declared.value.messages[0]
    services.project_approve(
        actor=cast.county, project=project, approved_on=datetime.date(2020, 1, 2)
    )
    with pytest.raises(ValidationError):
        _allocate(cast.county, project)
    today = datetime.date.today()
    services.project_publish(actor=cast.county, project=project, start=today)
    with pytest.raises(ValidationError) as publicity:
        _allocate(cast.county, project, day=today)
    assert _code(publicity.value) == "not_published"
    assert "公示中" in publicity.value.messages[0]
    assert FundMovement.objects.count() == 0


def test_a_movement_dated_inside_the_publicity_is_refused(cast, county):
    project = _declare(cast.county, county.village_a)
    services.project_approve(
        actor=cast.county, project=project, approved_on=datetime.date(2020, 1, 2)
    )
    services.project_publish(actor=cast.county, project=project, start=datetime.date(2020, 1, 3))
    with pytest.raises(ValidationError) as early:
        _allocate(cast.county, project, day=datetime.date(2020, 1, 10))
    assert _code(early.value) == "before_publicity_end"
    assert FundMovement.objects.count() == 0


def test_publicity_shorter_than_ten_days_or_out_of_order_is_refused(cast, county):
    project = _declare(cast.county, county.village_a)
    with pytest.raises(ValidationError) as unapproved:
        services.project_publish(
            actor=cast.county, project=project, start=datetime.date(2020, 1, 3)
        )
    assert _code(unapproved.value) == "bad_approval"
    services.project_approve(
        actor=cast.county, project=project, approved_on=datetime.date(2020, 1, 2)
    )
    with pytest.raises(ValidationError) as short:
        services.project_publish(
            actor=cast.county, project=project, start=datetime.date(2020, 1, 3), days=5
        )
    assert _code(short.value) == "publicity_too_short"
    project.refresh_from_db()
    assert project.approval == Project.Approval.APPROVED


def test_the_movement_page_shows_the_refusal(cast, county, client_for):
    project = _declare(cast.county, county.village_a)
    client = client_for(cast.county)
    response = client.post(
        f"/assistance/projects/{project.pk}/movements/",
        {
            "kind": "allocated",
            "source": CENTRAL,
            "amount": "1000",
            "date": "2020-03-01",
            "document_number": "黄扶发〔2020〕9号",
        },
        follow=True,
    )
    assert "公示期满后才能录入资金流水" in response.content.decode()
    assert FundMovement.objects.count() == 0
    page = client.get(f"/assistance/projects/{project.pk}/").content.decode()
    assert "审批" in page and f"/assistance/projects/{project.pk}/approve/" in page


def test_township_approval_page_refused(cast, county, client_for):
    project = _declare(cast.township, county.village_a)
    response = client_for(cast.township).post(
        f"/assistance/projects/{project.pk}/approve/", {"approved_on": "2020-01-02"}
    )
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.approval == Project.Approval.DECLARED


def test_data_migration_publishes_projects_whose_money_moved(cast, county):
    moved = _declare(cast.county, county.village_a)
    still = _declare(cast.county, county.village_a)
    services.project_approve(
        actor=cast.county, project=moved, approved_on=datetime.date(2019, 12, 1)
    )
    services.project_publish(actor=cast.county, project=moved, start=datetime.date(2019, 12, 2))
    _allocate(cast.county, moved, day=datetime.date(2020, 3, 1))
    # As before the migration: no approval recorded.
    Project.objects.update(
        approval="declared", approved_on=None, publicity_start=None, publicity_end=None
    )
    migration = import_module("assistance.migrations.0005_project_approval_assets")
    migration.publish_projects_with_money(django_apps, None)
    moved.refresh_from_db()
    still.refresh_from_db()
    assert (moved.approval, moved.publicity_start, moved.publicity_end) == (
        "published",
        datetime.date(2020, 2, 20),
        datetime.date(2020, 2, 29),
    )
    assert still.approval == "declared"
