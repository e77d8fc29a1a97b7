"""The yearly rollover (年度切换): lines only by the officer's choice, refused without them,
value lists and village years carried, the round opened, idempotent, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households.models import PovertyLine, Standard, ValueList, ValueListItem
from monitoring.models import DibaoStandard, MonitoringLine
from povertyapp.models import AccessLog, VillageYear
from rounds.models import AdjustmentRound
from rounds.services import round_open
from tests.conftest import login
from tests.project import app_today
from years import rollover
from years.models import CarriedVillageYear, YearRollover
from years.rollover import Choice, LineDecision

CARRY = LineDecision(choice=Choice.CARRY)


def this_year() -> int:
    return app_today().year


def previous_year() -> int:
    return this_year() - 1


@pytest.fixture
def last_year(county, cast):
    """Everything of last year: lines, the 低保 standard, every village's year row."""
    PovertyLine.objects.create(
        year=previous_year(), standard=Standard.NATIONAL, amount=Decimal("4800")
    )
    MonitoringLine.objects.create(
        region=county.province,
        year=previous_year(),
        kind=MonitoringLine.Kind.AMOUNT,
        amount=Decimal("7500"),
    )
    DibaoStandard.objects.create(
        region=county.province, year=previous_year(), amount=Decimal("5400")
    )
    for number, village in enumerate((county.village_a, county.village_a2, county.village_b)):
        VillageYear.objects.create(
            village=village,
            year=previous_year(),
            registered_rural_population=1000 + number,
            total_households=300 + number,
            is_poor_village=number == 0,
        )
    return county


def _counts() -> tuple[int, ...]:
    return (
        PovertyLine.objects.count(),
        MonitoringLine.objects.count(),
        DibaoStandard.objects.count(),
        ValueListItem.objects.count(),
        VillageYear.objects.count(),
        AdjustmentRound.objects.count(),
        YearRollover.objects.count(),
        AccessLog.objects.filter(target="year:rollover").count(),
    )


def test_rollover_refused_without_lines_writes_nothing(last_year, cast):
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        rollover.rollover_perform(actor=cast.county, county=last_year.county, year=this_year())
    errors = refused.value.message_dict
    assert errors["poverty_line"] == ["请选择国家扶贫标准的办理方式：沿用上年标准或录入本年标准。"]
    assert errors["monitoring_line"] == [
        "请选择防返贫监测标准的办理方式：沿用上年标准或录入本年标准。"
    ]
    assert _counts() == before


def test_rollover_refused_when_there_is_no_line_to_carry(county, cast):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village,
            year=previous_year(),
            registered_rural_population=10,
            total_households=3,
        )
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        rollover.rollover_perform(
            actor=cast.county,
            county=county.county,
            year=this_year(),
            poverty_line=CARRY,
            monitoring_line=CARRY,
        )
    assert refused.value.message_dict["poverty_line"] == [
        "上年没有国家扶贫标准可沿用，请录入本年标准。"
    ]
    assert _counts() == before


def test_rollover_carries_the_lines_only_as_chosen(last_year, cast):
    result = rollover.rollover_perform(
        actor=cast.county,
        county=last_year.county,
        year=this_year(),
        poverty_line=LineDecision(choice=Choice.ENTER, amount=Decimal("5000")),
        monitoring_line=CARRY,
        dibao_standard=LineDecision(choice=Choice.SKIP),
    )
    assert result.changed is True
    national = PovertyLine.objects.get(year=this_year(), standard=Standard.NATIONAL)
    assert national.amount == Decimal("5000.00")
    monitoring = MonitoringLine.objects.get(year=this_year())
    assert (monitoring.region, monitoring.kind, monitoring.amount) == (
        last_year.province,
        MonitoringLine.Kind.AMOUNT,
        Decimal("7500.00"),
    )
    assert not DibaoStandard.objects.filter(year=this_year()).exists()  # skipped: not carried


def test_monitoring_line_entered_below_one_and_a_half_poverty_lines_is_refused(last_year, cast):
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        rollover.rollover_perform(
            actor=cast.county,
            county=last_year.county,
            year=this_year(),
            poverty_line=CARRY,
            monitoring_line=LineDecision(choice=Choice.ENTER, amount=Decimal("6000")),
            dibao_standard=LineDecision(choice=Choice.SKIP),
        )
    assert refused.value.message_dict["monitoring_line"] == [
        "防返贫监测标准不应低于扶贫标准的1.5倍（7200.00元）。"
    ]
    assert _counts() == before


def test_dibao_standard_required_when_the_monitoring_line_is_a_multiple(last_year, cast):
    MonitoringLine.objects.filter(year=previous_year()).update(
        kind=MonitoringLine.Kind.DIBAO_MULTIPLE, amount=None, multiple=Decimal("2")
    )
    with pytest.raises(ValidationError) as refused:
        rollover.rollover_perform(
            actor=cast.county,
            county=last_year.county,
            year=this_year(),
            poverty_line=CARRY,
            monitoring_line=CARRY,
            dibao_standard=LineDecision(choice=Choice.SKIP),
        )
    assert refused.value.message_dict["dibao_standard"] == [
        "请选择农村低保标准的办理方式：沿用上年标准或录入本年标准。"
    ]
    rollover.rollover_perform(
        actor=cast.county,
        county=last_year.county,
        year=this_year(),
        poverty_line=CARRY,
        monitoring_line=CARRY,
        dibao_standard=CARRY,
    )
    assert DibaoStandard.objects.get(year=this_year()).amount == Decimal("5400.00")


def test_rollover_carries_village_years_opens_the_round_and_is_audited(last_year, cast):
    result = rollover.rollover_perform(
        actor=cast.county,
        county=last_year.county,
        year=this_year(),
        poverty_line=CARRY,
        monitoring_line=CARRY,
        dibao_standard=CARRY,
    )
    rows = VillageYear.objects.filter(year=this_year()).order_by("village__code")
    assert [(row.village.name, row.registered_rural_population) for row in rows] == [
        ("凤场村", 1000),
        ("龙坪村", 1001),
        ("西垭村", 1002),
    ]
    assert (
        CarriedVillageYear.objects.filter(
            rollover=result.rollover, from_year=previous_year()
        ).count()
        == 3
    )
    assert rollover.still_carried(last_year.county, this_year()).count() == 3
    # The village-year import gives a village its population: no longer carried.
    VillageYear.objects.filter(year=this_year(), village=last_year.village_a).update(
        registered_rural_population=990
    )
    assert rollover.still_carried(last_year.county, this_year()).count() == 2
    opened = AdjustmentRound.objects.get(county=last_year.county, year=this_year())
    assert opened.status == AdjustmentRound.Status.OPEN
    assert opened.opened_by == cast.county
    log = AccessLog.objects.get(target="year:rollover")
    assert (log.action, log.user, log.object_id) == (
        "configuration",
        cast.county,
        str(result.rollover.pk),
    )
    assert log.detail["done"] == result.rollover.done


def test_a_second_rollover_changes_nothing_and_says_what_is_done(last_year, cast):
    rollover.rollover_perform(
        actor=cast.county,
        county=last_year.county,
        year=this_year(),
        poverty_line=CARRY,
        monitoring_line=CARRY,
        dibao_standard=CARRY,
    )
    before = _counts()
    again = rollover.rollover_perform(actor=cast.county, county=last_year.county, year=this_year())
    assert again.changed is False
    assert again.done == []
    assert f"{this_year()}年国家扶贫标准已设置：4800.00元。" in again.already
    assert f"{this_year()}年动态调整已开启（进行中）。" in again.already
    assert _counts() == before


def test_value_lists_carried_unless_the_year_has_them(last_year, cast):
    # 致贫原因 ended last year: the year has none; 文化程度 keeps its open-ended labels.
    causes = ValueListItem.objects.filter(list=ValueList.CAUSE, province__isnull=True)
    labels = sorted(causes.values_list("label", flat=True))
    causes.update(year_to=previous_year())
    education_before = ValueListItem.objects.filter(list=ValueList.EDUCATION).count()
    plan = rollover.rollover_plan(county=last_year.county, year=this_year())
    assert plan.step("value_lists").state == rollover.State.TODO
    rollover.rollover_perform(
        actor=cast.county,
        county=last_year.county,
        year=this_year(),
        poverty_line=CARRY,
        monitoring_line=CARRY,
        dibao_standard=CARRY,
    )
    carried = ValueListItem.objects.filter(list=ValueList.CAUSE, year_from=this_year())
    assert sorted(carried.values_list("label", flat=True)) == labels
    assert set(carried.values_list("year_to", flat=True)) == {None}
    assert ValueListItem.objects.filter(list=ValueList.EDUCATION).count() == education_before


def test_rollover_refused_while_last_years_round_is_open(last_year, cast):
    round_open(actor=cast.county, county=last_year.county, year=previous_year())
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        rollover.rollover_perform(
            actor=cast.county,
            county=last_year.county,
            year=this_year(),
            poverty_line=CARRY,
            monitoring_line=CARRY,
            dibao_standard=CARRY,
        )
    assert refused.value.messages == [
        f"{previous_year()}年动态调整尚未关闭：请先在动态调整中审定并关闭，再开启{this_year()}年的批次。"
    ]
    assert _counts() == before


def test_rollover_refused_for_villages_without_any_year_row(last_year, cast):
    VillageYear.objects.filter(village=last_year.village_b).delete()
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        rollover.rollover_perform(
            actor=cast.county,
            county=last_year.county,
            year=this_year(),
            poverty_line=CARRY,
            monitoring_line=CARRY,
            dibao_standard=CARRY,
        )
    assert refused.value.messages == [
        f"1个行政村既无{this_year()}年也无{previous_year()}年的村年度信息，无法开启动态调整：西垭村。"
        "请先导入村年度信息。"
    ]
    assert _counts() == before


@pytest.mark.parametrize("role", ["cadre", "township", "auditor", "helper"])
def test_only_the_county_office_rolls_the_year_over(last_year, cast, role):
    before = _counts()
    with pytest.raises(PermissionDenied):
        rollover.rollover_perform(
            actor=getattr(cast, role),
            county=last_year.county,
            year=this_year(),
            poverty_line=CARRY,
            monitoring_line=CARRY,
            dibao_standard=CARRY,
        )
    assert _counts() == before


def test_rollover_page_shows_the_steps_and_what_is_missing(last_year, cast):
    response = login(cast.county).get("/years/rollover/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{this_year()}年国家扶贫标准尚未设置" in page
    assert "3个行政村沿用" in page
    assert f"开启{this_year()}年动态调整批次" in page
    assert f"上年：{previous_year()}年国家扶贫标准4800.00元" in page


def test_rollover_page_puts_a_missing_choice_beside_its_field(last_year, cast):
    client = login(cast.county)
    response = client.post("/years/rollover/", {"year": this_year(), "monitoring_line": "carry"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["poverty_line"] == [
        "请选择国家扶贫标准的办理方式：沿用上年标准或录入本年标准。"
    ]
    assert not PovertyLine.objects.filter(year=this_year()).exists()


def test_rollover_page_confirms_and_then_says_all_is_done(last_year, cast):
    client = login(cast.county)
    response = client.post(
        "/years/rollover/",
        {
            "year": this_year(),
            "poverty_line": "carry",
            "monitoring_line": "enter",
            "monitoring_line_amount": "7800",
            "dibao_standard": "skip",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert f"{this_year()}年度切换已完成" in response.content.decode()
    assert MonitoringLine.objects.get(year=this_year()).region == last_year.county
    assert AdjustmentRound.objects.filter(county=last_year.county, year=this_year()).exists()
    again = client.get("/years/rollover/").content.decode()
    assert f"{this_year()}年度切换的各项均已完成。" in again


@pytest.mark.parametrize("role", ["cadre", "township", "auditor", "helper", "sysadmin"])
def test_rollover_page_refuses_other_roles(last_year, cast, role):
    client = login(getattr(cast, role))
    assert client.get("/years/rollover/").status_code == 403
    response = client.post("/years/rollover/", {"year": this_year(), "poverty_line": "carry"})
    assert response.status_code == 403
    assert not PovertyLine.objects.filter(year=this_year()).exists()


def test_no_dibao_standard_needed_beside_a_fixed_monitoring_line(last_year, cast):
    DibaoStandard.objects.all().delete()
    result = rollover.rollover_perform(
        actor=cast.county,
        county=last_year.county,
        year=this_year(),
        poverty_line=CARRY,
        monitoring_line=CARRY,
    )
    assert result.changed is True
    assert not DibaoStandard.objects.exists()
    plan = rollover.rollover_plan(county=last_year.county, year=this_year())
    assert plan.nothing_to_do is True
