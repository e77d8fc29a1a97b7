"""The demo county's 身份共享 list (DOMAIN §7, 2025–2026): 民政's 农村低收入人口身份, pushed by the
county office through the list services as workbooks, so that the 低收入人口 page has persons
holding several identities, an ended identity, persons the registry does not hold, and a few
disagreements each way with the registry's 低保 and 特困 marks. 民政 exports its roster in
batches a request takes whole (BATCH rows: `UPLOAD_INLINE_MAX_ROWS` is 500). Idempotent: a
county that has its demo list is left alone. Called by `monitoring.demo.seed_monitoring` after
the monitoring objects.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping
from typing import Any

from households.models import Household, Member
from monitoring import lists
from monitoring.demo_lists import list_workbook, stranger_id
from monitoring.models import DepartmentList
from povertyapp.models import Region, User

IDENTITY_FILE = "演示_民政低收入人口身份名单.xlsx"  # the first batch's; the others 第N批
HEADER = ["序号", "姓名", "身份证号码", "身份类别", "认定日期", "终止日期", "救助证编号"]
BATCH = 450


def _day(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rng.randrange(0, max(1, (last - first).days)))


def batch_name(index: int) -> str:
    return IDENTITY_FILE if index == 1 else IDENTITY_FILE.replace(".xlsx", f"_第{index}批.xlsx")


def build(
    *, county: Any, users: Mapping[str, User], rng: random.Random, today: datetime.date
) -> DepartmentList | None:
    """The first batch of the county's demo roster (None: a county too small for one)."""
    region: Region = getattr(county, "county", county)
    done = DepartmentList.objects.filter(county=region, file_name=IDENTITY_FILE).first()
    if done is not None:
        return done
    members = Member.objects.filter(
        is_active=True, household__village__path__startswith=region.path
    ).exclude(id_number="")
    dibao = list(members.filter(receives_dibao=True).order_by("id"))
    tekun = list(members.filter(is_tekun=True).order_by("id"))
    ordinary = list(
        members.filter(
            household__status=Household.Status.NON_REGISTERED, receives_dibao=False
        ).order_by("id")[:6]
    )
    unmarked = (
        members.filter(household__status=Household.Status.EXITED, receives_dibao=False)
        .exclude(pk__in=[member.pk for member in ordinary])
        .order_by("id")
        .first()
    )
    if len(dibao) < 3 or len(tekun) < 2 or len(ordinary) < 4 or unmarked is None:
        return None  # a county too small for the list
    start_of_year = datetime.date(today.year, 1, 1)
    rows: list[list[Any]] = []

    def add(name: str, number: str, kind: str, start: datetime.date, end: Any = None) -> None:
        rows.append(
            [
                len(rows) % BATCH + 1,
                name,
                number,
                kind,
                start.isoformat(),
                end.isoformat() if end else None,
                f"MZ{today.year}{len(rows) + 1:05d}",
            ]
        )

    # Every 低保 and 特困 recipient the registry marks but the last of each: 民政 has not
    # certified those two (登记享受低保、民政无低保身份; 登记特困供养、民政无特困身份).
    for member in dibao[:-1]:
        add(
            member.name,
            member.id_number,
            "农村低保对象",
            _day(rng, datetime.date(2019, 1, 1), today),
        )
    for member in tekun[:-1]:
        add(
            member.name,
            member.id_number,
            "特困供养人员",
            _day(rng, datetime.date(2018, 1, 1), today),
        )
    # 低保边缘 and 刚性支出 in ordinary rural households; one of them holds both.
    edge, rigid, both, ended = ordinary[0], ordinary[1], ordinary[2], ordinary[3]
    add(edge.name, edge.id_number, "低保边缘家庭成员", _day(rng, start_of_year, today))
    add(rigid.name, rigid.id_number, "刚性支出困难家庭成员", _day(rng, start_of_year, today))
    add(both.name, both.id_number, "低保边缘家庭成员", datetime.date(today.year - 1, 9, 1))
    add(both.name, both.id_number, "刚性支出困难家庭成员", _day(rng, start_of_year, today))
    # A 低保 that ended last year, and a 脱贫人口 民政 certifies the registry does not mark
    # (民政认定低保、登记未标注享受低保).
    add(
        ended.name,
        ended.id_number,
        "农村低保对象",
        datetime.date(today.year - 3, 4, 1),
        datetime.date(today.year - 1, 12, 31),
    )
    add(unmarked.name, unmarked.id_number, "农村低保对象", _day(rng, start_of_year, today))
    # Two persons the registry does not hold (moved in, or never registered).
    for name in ("龙某英", "潘某"):
        add(name, stranger_id(rng), "农村低保对象", _day(rng, datetime.date(2022, 1, 1), today))
    first: DepartmentList | None = None
    for index, start in enumerate(range(0, len(rows), BATCH), start=1):
        pushed = lists.list_upload_inline(
            actor=users["county"],
            layout_key="low_income",
            period=f"{today.year}年{today.month}月",
            file=list_workbook([HEADER, *rows[start : start + BATCH]], title="农村低收入人口身份"),
            filename=batch_name(index),
            today=today,
        )
        first = first or pushed
    return first
