"""The assessment side of the demo county (a `seed_demo` step).

A finished third-party assessment of 黄平县 for the current year, visited after this year's
dynamic-adjustment round opened, drawn with the demo seed, every sampled household
visited and confirmed; the findings keep 错退率, 漏评率 and 群众认可度 inside their thresholds, so
the one veto that fails is 综合贫困发生率 (the demo county's remaining poor are about 10 % of the
rural population). The confirmed errors open correction tasks and rectification items; the
county office has entered supervision items besides, so the 督查整改清单 holds items in every
state (待整改, 整改中, 已整改, 已销号), some of them overdue.

Beside it, the county's own 县级自查 under way: drawn, visited from two days ago, the first
sampled village confirmed and a few households of the second saved as drafts, so that the
demo 评估/审计员 finds an assessment assigned to them with households still to visit.

Idempotent: when the campaign exists, nothing is added.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from households import demo as registry_demo
from households.models import HouseholdIncome
from inspections import services
from inspections.models import Campaign, RectificationItem, SampleKind
from rounds.demo import opening_day

CAMPAIGN_NAME = "{year}年度巩固脱贫成果第三方评估（演示）"
SELF_CHECK_NAME = "{year}年度防返贫监测县级自查（演示）"

SUPERVISION_ITEMS = [
    # (village index, problem, category, unit, person, deadline offset in days, final state)
    (
        0,
        "部分贫困户帮扶手册填写不规范，收入计算有误",
        "档案资料",
        "新州镇人民政府",
        "吴桂兰",
        -40,
        "已销号",
    ),
    (
        3,
        "村级光伏扶贫电站收益分配方案未公示",
        "资产收益",
        "县发展和改革局",
        "杨建国",
        -20,
        "已整改",
    ),
    (7, "2户C级危房改造工程未竣工", "住房安全", "县住房和城乡建设局", "罗光明", -10, "整改中"),
    (
        12,
        "饮水安全巩固提升工程进度滞后，3个组季节性缺水",
        "饮水安全",
        "县水务局",
        "潘德福",
        -5,
        "待整改",
    ),
    (18, "驻村工作队员在岗天数不足200天", "驻村帮扶", "县委组织部", "龙正华", 25, "整改中"),
    (25, "扶贫小额信贷逾期未及时清收", "金融帮扶", "县农村信用合作联社", "石玉兰", 40, "待整改"),
    (31, "产业扶贫项目验收资料不齐全", "项目管理", "县农业农村局", "张国富", -60, "已销号"),
    (
        44,
        "义务教育阶段控辍保学台账与学籍系统不一致",
        "教育保障",
        "县教育局",
        "陈春梅",
        15,
        "待整改",
    ),
]


def _evidence(name: str) -> SimpleUploadedFile:
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return SimpleUploadedFile(name, body.encode(), content_type="application/pdf")


def _per_capita(
    household_id: int | None, persons: int, incomes: dict[int, HouseholdIncome], line: Decimal
) -> Decimal:
    income = incomes.get(household_id or 0)
    if income is None or not persons:
        return line * Decimal("1.5")
    return (income.net / persons).quantize(Decimal("0.01"))


@transaction.atomic
def step(*, result: dict[str, Any], seed: int) -> None:
    county = result["county"].county
    users = result["users"]
    today = result.get("today") or timezone.localdate()
    name = CAMPAIGN_NAME.format(year=today.year)
    if Campaign.objects.filter(county=county, name=name).exists():
        return
    officer, assessor = users["county"], users["auditor"]
    # Incomes checked are last year's (上年度收入), against last year's line.
    income_year = today.year - 1
    line = registry_demo.line_amount(income_year)
    # After this year's round opened (rounds.demo.opening_day), before today.
    visit_date = max(
        today - datetime.timedelta(days=35), opening_day(today) + datetime.timedelta(days=3)
    )
    campaign = services.campaign_create(
        actor=officer,
        county=county,
        name=name,
        kind=Campaign.Kind.THIRD_PARTY,
        year=today.year,
        visit_date=visit_date,
        end_date=visit_date + datetime.timedelta(days=7),
        assessors=[assessor],
    )
    campaign = services.campaign_draw(actor=officer, campaign=campaign, seed=seed)
    rng = random.Random(seed)
    samples = list(campaign.households.select_related("sample_village__village", "household"))
    incomes = {
        income.household_id: income
        for income in HouseholdIncome.objects.filter(
            household_id__in=[s.household_id for s in samples if s.household_id],
            year=income_year,
        )
    }
    # The errors found: two wrongly included households, one member left out of a
    # non-registered household and one whole omitted household met on the spot, one wrongful
    # exit of a small household; 4 % of households do not approve.
    registered = [s for s in samples if s.kind != SampleKind.NON_REGISTERED]
    exited = [s for s in samples if s.kind == SampleKind.EXITED and s.persons <= 2]
    outside = [s for s in samples if s.kind == SampleKind.NON_REGISTERED]
    # Errors are kept under the 2 % thresholds of 错退率 and 漏评率 whatever the county size, so
    # that only 综合贫困发生率 vetoes.
    limit = Decimal("0.02")
    exited_persons = sum(s.persons for s in samples if s.kind == SampleKind.EXITED)
    outside_persons = sum(s.persons for s in outside)
    wrong_inclusion = {s.pk for s in rng.sample(registered, 2)}
    exited = [
        s for s in exited if s.pk not in wrong_inclusion and s.persons < limit * exited_persons
    ]
    wrong_exit = {rng.choice(exited).pk} if exited else set()
    member_omission = {rng.choice(outside).pk} if outside and limit * outside_persons > 1 else set()
    add_on_site = len(member_omission) + 2 < limit * (outside_persons + 2)
    for sample in samples:
        data = _usual_finding(sample, incomes, line, rng)
        if sample.pk in wrong_inclusion:
            data.update(
                result="错评",
                eligible=False,
                verified_per_capita_income=(line * Decimal("2.6")).quantize(Decimal("0.01")),
                notes="家庭成员在县城购有商品房，经营小型运输车辆。",
            )
        elif sample.pk in wrong_exit:
            data.update(
                result="错退",
                housing_secure=False,
                verified_per_capita_income=(line * Decimal("0.82")).quantize(Decimal("0.01")),
                notes="户主患大病，当年医疗支出大，收入未稳定超过标准，住房为C级危房。",
            )
        elif sample.pk in member_omission:
            data.update(
                result="漏评",
                omission_scope="member",
                error_persons=1,
                eligible=True,
                notes="户主之母长期随户生活，未登记在户。",
            )
        if rng.random() < 0.04:
            data.update(
                approval="不认可",
                disapproval_reason=rng.choice(
                    ["对帮扶措施不满意", "认为识别不公平", "对村干部工作不满意"]
                ),
            )
        services.finding_save(actor=assessor, sample=sample, data=data, confirm=True)
    on_site_village = campaign.villages.order_by("position").first()
    if add_on_site:
        _on_site_omission(campaign, on_site_village, assessor, line)
    services.campaign_finish(actor=officer, campaign=campaign)
    _supervision_items(result, officer, campaign, today)
    _self_check_under_way(county, officer, assessor, today, seed, income_year, line)


def _usual_finding(
    sample: Any, incomes: dict[int, HouseholdIncome], line: Decimal, rng: random.Random
) -> dict[str, Any]:
    """A sampled household found as registered: income within a few percent of the stated,
    两不愁三保障 met (a fifth of the unexited households' housing not yet secure), approving."""
    stated = _per_capita(sample.household_id, sample.persons, incomes, line)
    data: dict[str, Any] = {
        "stated_per_capita_income": stated,
        "verified_per_capita_income": (stated * Decimal(str(rng.uniform(0.96, 1.04)))).quantize(
            Decimal("0.01")
        ),
        "food_secure": True,
        "clothing_secure": True,
        "education_secure": True,
        "medical_secure": True,
        "housing_secure": True,
        "water_secure": True,
        "result": "正常",
        "approval": "认可",
    }
    if sample.kind in (SampleKind.UNEXITED, SampleKind.PRE_EXIT):
        data["eligible"] = True
        data["housing_secure"] = rng.random() < 0.8
    return data


def _self_check_under_way(
    county: Any,
    officer: Any,
    assessor: Any,
    today: datetime.date,
    seed: int,
    income_year: int,
    line: Decimal,
) -> None:
    """The county's 县级自查 in the field: visits began two days ago and end in five; the first
    village is done, three households of the second are drafts, the rest wait."""
    campaign = services.campaign_create(
        actor=officer,
        county=county,
        name=SELF_CHECK_NAME.format(year=today.year),
        kind=Campaign.Kind.SELF_CHECK,
        year=today.year,
        visit_date=today - datetime.timedelta(days=2),
        end_date=today + datetime.timedelta(days=5),
        assessors=[assessor],
    )
    campaign = services.campaign_draw(actor=officer, campaign=campaign, seed=seed + 1)
    rng = random.Random(seed + 1)
    villages = list(campaign.villages.order_by("position")[:2])
    incomes = {
        income.household_id: income
        for income in HouseholdIncome.objects.filter(
            household__samples__sample_village__in=villages, year=income_year
        )
    }
    for position, village in enumerate(villages):
        samples = list(
            campaign.households.filter(sample_village=village).order_by("position", "id")
        )
        for sample in samples if position == 0 else samples[:3]:
            data = _usual_finding(sample, incomes, line, rng)
            if position == 1:
                # A draft: the visit noted so far, the verdict still to give.
                data = {key: data[key] for key in ("stated_per_capita_income", "food_secure")}
            services.finding_save(actor=assessor, sample=sample, data=data, confirm=position == 0)


def _on_site_omission(
    campaign: Campaign, sample_village: Any, assessor: Any, line: Decimal
) -> None:
    added = services.sample_household_add(
        actor=assessor,
        campaign=campaign,
        sample_village=sample_village,
        head_name="杨老三",
        persons=2,
        address="第三村民小组后山",
    )
    services.finding_save(
        actor=assessor,
        sample=added,
        confirm=True,
        data={
            "stated_per_capita_income": (line * Decimal("0.9")).quantize(Decimal("1")),
            "verified_per_capita_income": (line * Decimal("0.88")).quantize(Decimal("1")),
            "food_secure": True,
            "clothing_secure": True,
            "education_secure": True,
            "medical_secure": True,
            "housing_secure": False,
            "water_secure": True,
            "eligible": True,
            "result": "漏评",
            "omission_scope": "household",
            "approval": "认可",
            "notes": "老两口无劳动力，住房为D级危房，未纳入建档立卡。",
        },
    )


def _supervision_items(
    result: dict[str, Any], officer: Any, campaign: Campaign, today: datetime.date
) -> None:
    """The county office's supervision items, in every state, some overdue."""
    villages = result["county"].villages
    for index, problem, category, unit, person, offset, final in SUPERVISION_ITEMS:
        item = services.rectification_create(
            actor=officer,
            region=villages[index % len(villages)],
            source="supervision",
            data={
                "problem": problem,
                "category": category,
                "responsible_unit": unit,
                "responsible_person": person,
                "deadline": today + datetime.timedelta(days=offset),
            },
        )
        if final == "待整改":
            continue
        item = services.rectification_transition(actor=officer, item=item, to_status="整改中")
        if final == "整改中":
            services.rectification_update(
                actor=officer,
                item=item,
                expected_version=item.version,
                data={"measures": "已制定整改方案，正在推进。"},
            )
            continue
        item = services.rectification_update(
            actor=officer,
            item=item,
            expected_version=item.version,
            data={"measures": "已完成整改，资料已归档。"},
        )
        services.rectification_evidence_add(
            actor=officer, item=item, file=_evidence(f"整改佐证-{item.pk}.pdf")
        )
        done_on = today + datetime.timedelta(days=min(offset, 0) - 3)
        item = services.rectification_transition(
            actor=officer, item=item, to_status="已整改", on=done_on
        )
        if final == "已销号":
            services.rectification_transition(actor=officer, item=item, to_status="已销号")
    # One finding's item already being worked on, so the finding items are not all 待整改.
    first_finding_item = RectificationItem.objects.filter(campaign=campaign).order_by("id").first()
    if first_finding_item is not None:
        services.rectification_transition(
            actor=officer, item=first_finding_item, to_status="整改中"
        )
