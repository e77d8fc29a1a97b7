"""Demo 风险线索 of the demo county (issue 15), every one through the one door
(`monitoring.clues.clue_create`) and the inbox's services:

- self-declarations (one entered by a cadre for a hotline caller) and 基层干部排查 findings;
- department rows of 医保, 教育, 民政 and 应急, one `DepartmentList` per push;
- some overdue (received weeks ago, never visited), some unmatched (ID numbers not in the
  registry: "register this household" tasks), some duplicates, some verified (with the
  household's signed 承诺授权 scan), some 不纳入 with their reasons.

`build(*, county, users, rng, today)` is idempotent: a county that already has clues is left
alone. `county` is the county's `Region` (or anything with a `.county` region: the demo's
`DemoCounty`, the tests' `County`).
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from stdnum.cn import ric

from households.demo_cases import on_day
from households.models import Household, Member
from monitoring import clues as clue_door
from monitoring import inbox, layouts
from monitoring.models import Clue, DepartmentList, RiskType
from povertyapp.models import Region, User

Department = User.Department

# (department, layout, risk type, the department's own columns)
# (department, layout key, the department's own columns)
PUSHES = [
    (Department.MEDICAL_INSURANCE, "medical_costs", ["就诊医院", "自付金额"]),
    (Department.EDUCATION, "dropout", ["学校", "年级"]),
    (Department.CIVIL_AFFAIRS, "new_tekun", ["救助类别", "批准日期"]),
    (Department.EMERGENCY, "disaster", ["灾种", "损失情况"]),
]
DETAILS = {
    "就诊医院": ["黄平县人民医院", "黔东南州人民医院", "贵州医科大学附属医院"],
    "自付金额": ["26800", "41500", "63200"],
    "学校": ["黄平县民族中学", "旧州中学"],
    "年级": ["初二", "高一"],
    "救助类别": ["农村低保", "分散供养特困"],
    "批准日期": ["2026-02-15", "2026-03-01"],
    "灾种": ["洪涝", "风雹", "山体滑坡"],
    "损失情况": ["房屋受损", "农作物绝收"],
}
DIFFICULTIES = [
    "丈夫突发脑溢血住院，自付医疗费较多，家中缺少劳动力。",
    "暴雨冲毁房屋和农田，一家人暂住亲戚家。",
    "孩子考上大学，学费生活费负担重。",
    "外出务工受伤，半年不能干重活。",
]
NOT_INCLUDED_REASONS = [
    "入户核实：自付费用已由大病保险和医疗救助报销，家庭收入稳定，不纳入。",
    "入户核实：家庭有两名稳定务工人员，人均纯收入高于监测标准，不纳入。",
]


def _consent_scan() -> SimpleUploadedFile:
    """The household's signed 承诺授权, photographed at the 入户核实 (a JPEG's first bytes)."""
    return SimpleUploadedFile("承诺授权书.jpg", b"\xff\xd8\xff\xe0demo", content_type="image/jpeg")


def _county_region(county: Any) -> Region:
    return county if isinstance(county, Region) else county.county


def _outsider_id(rng: random.Random) -> str:
    """A valid ID number of the county no person of the registry holds."""
    while True:
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 20000))
        body = f"522622{birth:%Y%m%d}{rng.randrange(800, 999):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if clue_door.match(number).member is None:
            return number


@transaction.atomic
def build(*, county: Any, users: dict[str, User], rng: random.Random, today: Any) -> dict[str, int]:
    """Seed the county's clues as of `today` (the services run as on each clue's own day)."""
    with on_day(today):
        return _build(region=_county_region(county), users=users, rng=rng, today=today)


def _build(
    *, region: Region, users: dict[str, User], rng: random.Random, today: datetime.date
) -> dict[str, int]:
    if Clue.objects.filter(region__path__startswith=region.path).exists():
        return {}
    officer = users["county"]
    members = list(
        Member.objects.filter(
            household__village__path__startswith=region.path,
            is_active=True,
            household__status__in=[
                Household.Status.POOR,
                Household.Status.EXITED,
                Household.Status.NON_REGISTERED,
            ],
        )
        .exclude(id_number="")
        .select_related("household", "household__village")
        .order_by("household_id", "id")
    )
    heads = list({member.household_id: member for member in reversed(members)}.values())
    rng.shuffle(heads)
    pool = iter(heads)
    made: list[Clue] = []

    def person() -> Member | None:
        return next(pool, None)

    def village_of(member: Member | None) -> Region:
        if member is not None:
            return member.household.village
        return users["cadre"].region or region

    # Earlier clues, dated on their own days: two overdue (received three and five weeks ago,
    # never visited), four verified last week of which two were decided 不纳入.
    for weeks in (3, 5):
        member = person()
        if member is None:
            break
        with on_day(today - datetime.timedelta(weeks=weeks)):
            made.append(
                clue_door.clue_create(
                    channel=Clue.Channel.SELF_DECLARATION,
                    name=member.name,
                    id_number=member.id_number,
                    phone=f"139{rng.randrange(10**8):08d}",
                    difficulty=DIFFICULTIES[weeks % len(DIFFICULTIES)],
                    risk_type=RiskType.ILLNESS,
                    region=village_of(member),
                    received_on=today - datetime.timedelta(weeks=weeks),
                    actor=None,
                )
            )
    for index in range(4):
        member = person()
        if member is None:
            break
        received = today - datetime.timedelta(days=8 + index)
        with on_day(received):
            clue = clue_door.clue_create(
                channel=Clue.Channel.CADRE_CHECK,
                name=member.name,
                id_number=member.id_number,
                difficulty=DIFFICULTIES[index % len(DIFFICULTIES)],
                risk_type=RiskType.ACCIDENT,
                region=village_of(member),
                received_on=received,
                actor=officer,
            )
        if clue.state != Clue.State.PENDING:
            continue
        with on_day(received + datetime.timedelta(days=1)):
            clue = inbox.clue_verify(
                actor=officer,
                clue=clue,
                verified_on=received + datetime.timedelta(days=1),
                note="已入户核实，情况属实，家庭成员均在家。农户已签署承诺授权书。",
                expected_version=clue.version,
                consent=_consent_scan(),
                consent_signed_on=received + datetime.timedelta(days=1),
            )
        if index < len(NOT_INCLUDED_REASONS):
            with on_day(received + datetime.timedelta(days=3)):
                inbox.clue_not_include(
                    actor=officer,
                    clue=clue,
                    reason=NOT_INCLUDED_REASONS[index],
                    expected_version=clue.version,
                )

    # 农户自主申报 (the last one called the hotline) and 基层干部排查.
    for index in range(3):
        member = person()
        if member is None:
            break
        hotline = index == 2
        made.append(
            clue_door.clue_create(
                channel=Clue.Channel.SELF_DECLARATION,
                via_hotline=hotline,
                name=member.name,
                id_number=member.id_number,
                phone=f"138{rng.randrange(10**8):08d}",
                difficulty=DIFFICULTIES[index % len(DIFFICULTIES)],
                risk_type=rng.choice([RiskType.ILLNESS, RiskType.DISASTER, RiskType.ACCIDENT]),
                region=village_of(member),
                received_on=today,
                actor=users["cadre"] if hotline else None,
            )
        )
    for index in range(2):
        member = person()
        if member is None:
            break
        made.append(
            clue_door.clue_create(
                channel=Clue.Channel.CADRE_CHECK,
                name=member.name,
                id_number=member.id_number,
                difficulty=DIFFICULTIES[(index + 1) % len(DIFFICULTIES)],
                risk_type=rng.choice([RiskType.EMPLOYMENT, RiskType.INDUSTRY]),
                region=village_of(member),
                received_on=today,
                actor=users["cadre"],
            )
        )
    # An unmatched self-declaration: a family not in the registry.
    made.append(
        clue_door.clue_create(
            channel=Clue.Channel.SELF_DECLARATION,
            name="韦秀珍",
            id_number=_outsider_id(rng),
            phone="13985550123",
            difficulty="新迁入本村，丈夫去世，独自抚养两个孩子。",
            risk_type=RiskType.LABOUR,
            region=users["cadre"].region or region,
            received_on=today,
            actor=None,
        )
    )

    # 部门筛查预警: one list per push, counted as an upload counts it (`lists.list_apply`): a
    # person listed twice is one clue and a 重复 row; another person of a household the list
    # has just raised is a clue of its own, joined to the open one (已有未办结线索).
    uploaders = {Department.MEDICAL_INSURANCE: users.get("yibao") or officer}
    family: dict[int, list[Member]] = {}
    for member in members:
        family.setdefault(member.household_id, []).append(member)
    for department, key, columns in PUSHES:
        layout = layouts.get(key)
        assert layout is not None  # PUSHES names layouts
        source = DepartmentList.objects.create(
            county=region,
            department=department,
            purpose=DepartmentList.Purpose.RISK,
            layout=key,
            period=f"{today.year}年{today.month}月",
            file_name=f"{layout.label}名单.xlsx",
            state=DepartmentList.State.DONE,
            uploaded_by=uploaders.get(department, officer),
        )
        listed: list[Member] = []
        for _index in range(2):
            member = person()
            if member is not None:
                listed.append(member)
        rows = [(member.name, member.id_number) for member in listed]
        if listed:
            rows.append(rows[0])  # the same person twice
            relative = next(
                (m for m in family[listed[0].household_id] if m.pk != listed[0].pk), None
            )
            if relative is not None:
                rows.append((relative.name, relative.id_number))
        rows.append(("杨国富", _outsider_id(rng)))  # not in the registry
        counts = {"matched": 0, "unmatched": 0, "duplicate": 0}
        seen: set[str] = set()
        for number, (name, id_number) in enumerate(rows, start=2):
            if id_number in seen:
                counts["duplicate"] += 1
                continue
            seen.add(id_number)
            details: dict[str, Any] = {"_columns": columns}
            for column in columns:
                details[column] = rng.choice(DETAILS[column])
            clue = clue_door.clue_create(
                channel=Clue.Channel.DEPARTMENT,
                department=department,
                source_list=source,
                source_row=number,
                name=name,
                id_number=id_number,
                risk_type=layout.risk_type,
                amount=(
                    Decimal(details["自付金额"])
                    if department == Department.MEDICAL_INSURANCE
                    else None
                ),
                details=details,
                received_on=today,
                actor=source.uploaded_by,
            )
            made.append(clue)
            counts["unmatched" if clue.household_id is None else "matched"] += 1
        DepartmentList.objects.filter(pk=source.pk).update(
            rows_total=len(rows),
            rows_matched=counts["matched"],
            rows_unmatched=counts["unmatched"],
            rows_duplicate=counts["duplicate"],
        )

    by_state: dict[str, int] = {}
    for state in Clue.objects.filter(region__path__startswith=region.path).values_list(
        "state", flat=True
    ):
        by_state[state] = by_state.get(state, 0) + 1
    return by_state
