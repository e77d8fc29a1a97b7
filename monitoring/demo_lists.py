"""The demo county's department lists (issue 15): a 医保 push through the list services, with
a generated workbook holding matched rows (over the warning standard), rows under it, a
duplicate and IDs the registry does not hold; and a 车辆 scrutiny list raising two tasks, one
of them for a cadre's relative. Idempotent: a county that has its demo lists is left alone.

`step(result=..., seed=...)` is the demo step (add "monitoring.demo_lists.step" to
settings.DEMO_STEPS after the registry's step); `build` does the work.
"""

from __future__ import annotations

import datetime
import io
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from stdnum.cn import ric

from households.models import Household, Member
from monitoring import lists
from monitoring.models import CadreRelation, DepartmentList, LocalRules
from povertyapp.models import Region, User

MEDICAL_FILE = "演示_医保大额自付名单.xlsx"
VEHICLE_FILE = "演示_车辆登记名单.xlsx"
# 贵州 rural per-capita disposable income of the previous year (the 医保 standard's base).
RURAL_INCOME = Decimal("15800")


def list_workbook(rows: list[list[Any]], *, title: str) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append([f"{title}（演示数据）"])  # a title row above the header, as departments send
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        "list.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def stranger_id(rng: random.Random) -> str:
    """A valid ID number of a person of the county the registry does not hold."""
    while True:
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 20000))
        body = f"522622{birth:%Y%m%d}{rng.randrange(600, 999):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if not Member.objects.with_id_number(number).exists():
            return number


def _members(county: Region, rng: random.Random, count: int) -> list[Member]:
    candidates = list(
        Member.objects.filter(
            is_active=True,
            household__village__path__startswith=county.path,
            household__status__in=Household.REGISTERED_STATUSES,
        )
        .exclude(id_number="")
        .select_related("household")
        .order_by("id")[:400]
    )
    by_household: dict[int, Member] = {}
    for member in candidates:
        by_household.setdefault(member.household_id, member)
    chosen = list(by_household.values())
    rng.shuffle(chosen)
    return chosen[:count]


def _member_in(cadre: User | None, *, exclude: list[Member]) -> Member | None:
    """A registered member of the cadre's village, none of `exclude` (None without one)."""
    if cadre is None or cadre.region is None:
        return None
    return (
        Member.objects.filter(
            is_active=True,
            household__village=cadre.region,
            household__status__in=Household.REGISTERED_STATUSES,
        )
        .exclude(id_number="")
        .exclude(pk__in=[member.pk for member in exclude])
        .select_related("household")
        .order_by("id")
        .first()
    )


def build(
    *,
    county: Any,
    users: Mapping[str, User],
    rng: random.Random,
    today: datetime.date,
) -> dict[str, DepartmentList]:
    """The two demo lists of `county` (a Region or the demo's county record)."""
    region: Region = getattr(county, "county", county)
    done = DepartmentList.objects.filter(county=region, file_name__in=[MEDICAL_FILE, VEHICLE_FILE])
    if done.exists():
        return {item.file_name: item for item in done}
    rules, _created = LocalRules.objects.get_or_create(region=region)
    if rules.rural_income is None and rules.medical_amount is None:
        rules.rural_income = RURAL_INCOME
        rules.save(update_fields=["rural_income"])
    officer = users["county"]
    pusher = users.get("yibao", officer)
    members = _members(region, rng, 8)
    if len(members) < 6:
        raise RuntimeError("the demo county has too few registered members for the lists")
    registered_standard = lists.medical_threshold(rules, registered=True) or Decimal("0")
    other_standard = lists.medical_threshold(rules, registered=False) or Decimal("0")
    header = ["序号", "患者姓名", "身份证号码", "医疗总费用", "个人自付金额", "就诊医院"]
    rows: list[list[Any]] = [header]
    hospitals = ["黄平县人民医院", "黔东南州人民医院", "贵州医科大学附属医院"]

    def add(name: str, number: str, paid: Decimal) -> None:
        rows.append([len(rows), name, number, str(paid * 3), str(paid), rng.choice(hospitals)])

    for member in members[:3]:  # matched, over the standard: clues for their villages
        add(member.name, member.id_number, registered_standard + rng.randrange(500, 20000))
    add(members[0].name, members[0].id_number, registered_standard + 1000)  # a duplicate row
    for member in members[3:5]:  # matched, under the standard: counted, no clue
        add(member.name, member.id_number, registered_standard - rng.randrange(100, 2000))
    for name in ("吴某", "潘某"):  # not in the registry: "register this household" tasks
        add(name, stranger_id(rng), other_standard + rng.randrange(1000, 30000))
    add("杨某", stranger_id(rng), other_standard - 500)  # not registered, under its standard
    medical = lists.list_upload_inline(
        actor=pusher,
        layout_key="medical_costs",
        period=f"{today.year}年{today.month}月",
        file=list_workbook(rows, title="大额医疗费用个人自付"),
        filename=MEDICAL_FILE,
        today=today,
    )
    # The cadre's relative lives in the demo cadre's own village, so that the village meets a
    # 剔除核查 task of its own whatever the random draw above picked.
    relative = _member_in(users.get("cadre"), exclude=members[:7]) or members[5]
    plain = members[6] if len(members) > 6 else members[1]
    if not CadreRelation.objects.filter(member=relative).exists():
        CadreRelation.objects.create(
            member=relative,
            cadre_name="王国强",
            cadre_post=CadreRelation.Post.VILLAGE_CADRE,
            relation="兄弟",
            recorded_by=officer,
        )
    vehicles = lists.list_upload_inline(
        actor=officer,
        layout_key="vehicles",
        period=str(today.year),
        file=list_workbook(
            [
                ["车主姓名", "身份证号", "号牌号码", "车辆品牌型号", "购置价格"],
                [relative.name, relative.id_number, "贵H·A1234", "丰田汉兰达", "268000"],
                [plain.name, plain.id_number, "贵H·B5678", "大众帕萨特", "186000"],
                [members[2].name, members[2].id_number, "贵H·C0001", "五菱宏光", "42000"],
            ],
            title="车辆登记",
        ),
        filename=VEHICLE_FILE,
        today=today,
    )
    return {MEDICAL_FILE: medical, VEHICLE_FILE: vehicles}
