"""The demo county's monitoring objects (issue 15, part A): the lines, households of each type
in the village cadre's village, identified, monitored and eliminated through the services, in
the legal order of their dates, relative to the demo's `today`.

What a visitor finds: the province's monitoring line as an amount and the county's own rule
of 2 × its 农村低保标准; objects of each type (脱贫不稳定户, 边缘易致贫户, 突发严重困难户), two
still 识别中 (one past its 15-day clock, one on the 绿色通道), most 监测中 with income assessments
and measures, two eliminated by each way (one with a 小额信贷 that goes on after it), one
elimination refused at the county's decision (a new risk came in; the case is back at the
village with the reasons), and one household with no labour capacity that stays monitored with
兜底 measures.

`build` is idempotent (nothing is done when the county already has monitoring objects).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from assistance import services as assistance_services
from households import services as household_services
from households.models import Household, Member
from monitoring import clues, income, objects, procedures
from monitoring.models import (
    Clue,
    DibaoStandard,
    MonitoringLine,
    MonitoringObject,
    ObjectRisk,
)
from povertyapp.models import Region, User

PROVINCE_LINE = Decimal("7800")
COUNTY_DIBAO = Decimal("4380")
COUNTY_MULTIPLE = Decimal("2")
SURNAMES = "杨吴龙潘王张李石罗韦"
GIVEN = "光明志华秀英桂兰德福春花海林"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


@dataclass(frozen=True)
class Scenario:
    object_type: str
    status: str
    risks: tuple[str, ...]
    # identifying | overdue | monitored | eliminated | refused | no_labour
    outcome: str
    way: str = ""
    green_channel: bool = False
    measure: str = ""


SCENARIOS = (
    Scenario("unstable", "exited", ("illness",), "eliminated", "assisted", measure="健康帮扶"),
    Scenario(
        "marginal", "non_registered", ("employment",), "eliminated", "assisted", measure="金融帮扶"
    ),
    Scenario("marginal", "non_registered", ("industry",), "eliminated", "natural"),
    Scenario(
        "sudden", "non_registered", ("disaster",), "eliminated", "natural", green_channel=True
    ),
    Scenario("unstable", "exited", ("education",), "monitored", measure="教育帮扶"),
    Scenario(
        "marginal", "non_registered", ("illness", "disability"), "monitored", measure="健康帮扶"
    ),
    Scenario(
        "sudden",
        "non_registered",
        ("accident",),
        "monitored",
        green_channel=True,
        measure="社会帮扶",
    ),
    Scenario("marginal", "exited", ("housing",), "refused", "assisted", measure="危房改造"),
    Scenario("unstable", "exited", ("labour",), "no_labour", measure="兜底保障"),
    Scenario("marginal", "non_registered", ("illness",), "identifying"),
    Scenario("sudden", "non_registered", ("disaster",), "identifying", green_channel=True),
    Scenario("marginal", "non_registered", ("employment",), "overdue"),
)


def _id_number(rng: random.Random, birth: datetime.date, sex: str) -> str:
    while True:
        sequence = rng.randrange(1, 499) * 2 + (1 if sex == "男" else 2)
        body = f"522622{birth:%Y%m%d}{sequence:03d}"
        number = body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]
        if not Member.objects.with_id_number(number).exists():
            return number


def _member(rng: random.Random, *, relation: str, sex: str, birth: datetime.date, skill: str):
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "relation": relation,
        "sex": sex,
        "birth_date": birth,
        "id_number": _id_number(rng, birth, sex),
        "ethnicity": "苗族",
        "education": "初中",
        "school_status": "非在校生",
        "health": "健康",
        "labour_skill": skill,
        "work_status": "县内",
        "work_months": 6,
        "has_medical_insurance": True,
        "has_critical_illness_insurance": True,
        "has_pension_insurance": True,
        "political_status": "群众",
    }


def _household(
    rng: random.Random, scenario: Scenario, *, village: Region, actor: User, today: datetime.date
) -> Household:
    skill = "丧失劳动力" if scenario.outcome == "no_labour" else "普通劳动力"
    members = [
        _member(rng, relation="户主", sex="男", birth=datetime.date(1968, 3, 2), skill=skill),
        _member(rng, relation="配偶", sex="女", birth=datetime.date(1970, 8, 19), skill=skill),
        _member(rng, relation="之子", sex="男", birth=datetime.date(1994, 1, 11), skill=skill),
    ]
    if scenario.outcome == "no_labour":
        members = members[:2]
    registered = scenario.status != Household.Status.NON_REGISTERED
    return household_services.household_create(
        actor=actor,
        data={
            "village": village,
            "main_cause": "因病" if registered else "",
            "poverty_attribute": "一般贫困户" if registered else "",
            "first_identified_year": 2016 if registered else None,
            "house_grade": "B",
            "water_safe": True,
            "water_difficult": False,
            "food_secure": True,
            "clothing_secure": True,
            "road_type": "水泥路",
            "fuel_type": "柴草",
        },
        members=members,
        status=scenario.status,
        exit_year=2019 if scenario.status == Household.Status.EXITED else None,
        check_scope=False,
        effective_date=today - datetime.timedelta(days=400),
    )


def _scan() -> SimpleUploadedFile:
    return SimpleUploadedFile("承诺授权书.jpg", b"\xff\xd8\xff\xe0demo", content_type="image/jpeg")


def _lines(county: Region, today: datetime.date) -> None:
    province = county.ancestors()[0] if county.parent_id else county
    for year in (today.year - 1, today.year):
        MonitoringLine.objects.get_or_create(
            region=province,
            year=year,
            defaults={"kind": "amount", "amount": PROVINCE_LINE, "basis": "省乡村振兴局年度通知"},
        )
    DibaoStandard.objects.get_or_create(
        region=county, year=today.year, defaults={"amount": COUNTY_DIBAO}
    )
    MonitoringLine.objects.get_or_create(
        region=county,
        year=today.year,
        defaults={
            "kind": "dibao_multiple",
            "multiple": COUNTY_MULTIPLE,
            "basis": "县防止返贫监测帮扶实施方案",
        },
    )


def _assess(household: Household, actor: User, day: datetime.date, wage: int) -> Any:
    return income.assess_income(
        household=household,
        period_end=day,
        actor=actor,
        components={
            "wage": Decimal(wage),
            "production": Decimal("3000"),
            "property_income": Decimal("0"),
            "transfer": Decimal("1200"),
            "production_cost": Decimal("1000"),
            "compliant_out_of_pocket": Decimal("2000"),
            "insurance_payouts": Decimal("1500"),
        },
    )


def _step(user: User, workflow: Any, step: str, day: datetime.date, **extra: Any) -> None:
    household_services.workflow_step_complete(
        actor=user, workflow=workflow, expected_step=step, acted_on=day, **extra
    )


def _notice(user: User, workflow: Any, day: datetime.date) -> None:
    household_services.notice_start(
        actor=user,
        workflow=workflow,
        expected_step=workflow.step,
        start_date=day,
        days=5,
        phone="0855-2420000",
    )
    household_services.workflow_step_complete(
        actor=user, workflow=workflow, expected_step=workflow.step
    )


def _identify(
    scenario: Scenario,
    household: Household,
    users: dict[str, User],
    clue_date: datetime.date,
    *,
    finish: bool,
    visit: bool = True,
) -> MonitoringObject:
    cadre, township, county = users["cadre"], users["township"], users["county"]
    assessment = _assess(household, cadre, clue_date, 14000)
    found = procedures.identification_start(
        actor=cadre,
        household=household,
        object_type=scenario.object_type,
        risk_types=scenario.risks,
        clue_date=clue_date,
        green_channel=scenario.green_channel,
        green_channel_reason="突发灾害，先帮扶后认定" if scenario.green_channel else "",
        consent=_scan(),
        consent_signed_on=clue_date,
        assessment=assessment,
        opinion="农户申报，入户核实家庭困难属实",
    )
    workflow = found.identification
    assert workflow is not None
    if not visit:
        return found
    day = clue_date + datetime.timedelta(days=1)
    _step(cadre, workflow, "home_visit", day, opinion="入户核实，农户签署承诺授权书")
    if not finish:
        return found
    _step(
        cadre,
        workflow,
        "appraisal",
        day + datetime.timedelta(days=1),
        opinion="村民代表评议同意纳入",
        attendance=21,
        evidence=SimpleUploadedFile(
            "评议记录.jpg", b"\xff\xd8\xff\xe0m", content_type="image/jpeg"
        ),
    )
    workflow.refresh_from_db()
    _notice(cadre, workflow, day + datetime.timedelta(days=2))
    _step(
        township, workflow, "township_review", day + datetime.timedelta(days=9), opinion="审核同意"
    )
    _step(
        county, workflow, "county_approval", day + datetime.timedelta(days=10), opinion="审定纳入"
    )
    found.refresh_from_db()
    return found


def _measure(user: User, household: Household, category: str, start: datetime.date, end: Any):
    return assistance_services.measure_create(
        actor=user,
        household=household,
        data={
            "year": start.year,
            "category": category,
            "content": {
                "金融帮扶": "脱贫人口小额信贷5万元（3年）",
                "教育帮扶": "雨露计划职业教育补助",
                "兜底保障": "纳入农村低保",
            }.get(category, f"{category}措施"),
            "planned_start": start,
            "actual_start": start,
            "planned_end": end,
            "amount": "0",
        },
    )


def _eliminate(
    found: MonitoringObject,
    users: dict[str, User],
    today: datetime.date,
    way: str,
    *,
    new_risk: bool = False,
) -> None:
    cadre, township, county = users["cadre"], users["township"], users["county"]
    household = found.household
    _assess(household, cadre, today - datetime.timedelta(days=230), 40000)
    _assess(household, cadre, today - datetime.timedelta(days=25), 42000)
    for risk in ObjectRisk.objects.filter(monitoring_object=found):
        objects.risk_resolve(
            actor=cadre, risk=risk, resolved_on=today - datetime.timedelta(days=40)
        )
    found.refresh_from_db()
    workflow = procedures.elimination_propose(
        actor=cadre,
        monitoring_object=found,
        way=way,
        basis="家庭人均纯收入连续半年以上稳定超过监测标准，风险已消除"
        if way == "natural"
        else "落实产业和就业帮扶后收入稳定，刚性支出问题已解决",
        acted_on=today - datetime.timedelta(days=16),
    )
    _notice(cadre, workflow, today - datetime.timedelta(days=15))
    _step(
        township,
        workflow,
        "township_review",
        today - datetime.timedelta(days=8),
        opinion="审核同意",
    )
    if new_risk:
        head = household.members.get(relation="户主")
        clues.clue_create(
            channel=Clue.Channel.DEPARTMENT,
            department=User.Department.MEDICAL_INSURANCE,
            name=head.name,
            id_number=head.id_number,
            risk_type="illness",
            received_on=today - datetime.timedelta(days=7),
            actor=county,
            amount=Decimal("23800"),
        )
    try:
        _step(
            county, workflow, "county_approval", today - datetime.timedelta(days=6), opinion="审定"
        )
    except ValidationError as refusal:
        # The county sends it back to the village with the rules that failed, named.
        household_services.workflow_return(
            actor=county,
            workflow=workflow,
            expected_step="county_approval",
            opinion="；".join(refusal.messages),
            to_step="proposal",
        )


@transaction.atomic
def build(
    *, county: Region, users: dict[str, User], rng: random.Random, today: datetime.date
) -> dict[str, int]:
    """The monitoring objects of the demo county (see the module's docstring)."""
    if MonitoringObject.objects.filter(household__village__path__startswith=county.path).exists():
        return {"objects": 0}
    _lines(county, today)
    village = users["cadre"].region
    assert village is not None
    counts: dict[str, int] = {}
    for index, scenario in enumerate(SCENARIOS):
        household = _household(rng, scenario, village=village, actor=users["county"], today=today)
        if scenario.outcome == "identifying":
            found = _identify(
                scenario, household, users, today - datetime.timedelta(days=3 + index), finish=False
            )
        elif scenario.outcome == "overdue":
            found = _identify(
                scenario,
                household,
                users,
                today - datetime.timedelta(days=25),
                finish=False,
                visit=False,
            )
        else:
            found = _identify(
                scenario,
                household,
                users,
                today - datetime.timedelta(days=330 - index * 5),
                finish=True,
            )
            start = (found.identified_on or today) + datetime.timedelta(days=5)
            if scenario.measure:
                end = (
                    start + datetime.timedelta(days=1095)
                    if scenario.measure == "金融帮扶"
                    else None
                )
                _measure(users["cadre"], household, scenario.measure, start, end)
            if scenario.outcome == "eliminated":
                _eliminate(found, users, today, scenario.way)
            elif scenario.outcome == "refused":
                _eliminate(found, users, today, scenario.way, new_risk=True)
            else:
                _assess(household, users["cadre"], today - datetime.timedelta(days=30), 20000)
        found.refresh_from_db()
        counts[found.state] = counts.get(found.state, 0) + 1
    return counts
