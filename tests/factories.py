"""Factories shared by every app's tests: regions, users, households (through the services)."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from stdnum.cn import ric

from households import services as household_services
from households.models import Household, Member
from povertyapp.models import Region, User
from povertyapp.services import region_create, user_create

PASSWORD = "Test-pass-123"
_sequence = itertools.count(1)


def id_number(
    birth_date: datetime.date = datetime.date(1980, 5, 17),
    sex: str = "男",
    address: str = "522622",
) -> str:
    """A valid, unique ID number for a birth date and sex."""
    serial = next(_sequence) % 499
    sequence = serial * 2 + (1 if sex == "男" else 2)
    body = f"{address}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def region(code: str, name: str, level: str, parent: Region | None = None) -> Region:
    return Region.objects.filter(code=code).first() or region_create(
        code=code, name=name, level=level, parent=parent, is_western=True
    )


def user(username: str, role: str, region_: Region | None, **extra: Any) -> User:
    return user_create(
        username=username,
        password=PASSWORD,
        role=role,
        region=region_,
        full_name=extra.pop("full_name", username),
        validate_password=False,
        **extra,
    )


def member_data(
    *,
    name: str = "张三",
    relation: str = "户主",
    sex: str = "男",
    birth_date: datetime.date = datetime.date(1980, 5, 17),
    **extra: Any,
) -> dict[str, Any]:
    if "id_number" not in extra:
        extra["id_number"] = id_number(birth_date, sex)
    data = {
        "name": name,
        "relation": relation,
        "sex": sex,
        "birth_date": birth_date,
        "ethnicity": "苗族",
        "education": "初中",
        "school_status": "非在校生",
        "health": "健康",
        "labour_skill": "普通劳动力",
        "work_status": "县内",
        "work_months": 6,
        "has_medical_insurance": True,
        "has_critical_illness_insurance": True,
        "has_pension_insurance": True,
        "political_status": "群众",
    }
    data.update(extra)
    return data


def household(
    *,
    actor: User,
    village: Region,
    members: list[dict[str, Any]] | None = None,
    status: str = Household.Status.POOR,
    main_cause: str = "缺技术",
    **data: Any,
) -> Household:
    """A household created through the service, as the county office would register it."""
    values = {
        "village": village,
        "main_cause": main_cause,
        "poverty_attribute": "一般贫困户",
        "first_identified_year": 2016,
        "house_grade": "B",
        "water_safe": True,
        "water_difficult": False,
        "food_secure": True,
        "clothing_secure": True,
        "road_type": "水泥路",
        "fuel_type": "柴草",
    }
    values.update(data)
    if status in (Household.Status.NON_REGISTERED,):
        values.setdefault("main_cause", "")
    exit_year = values.pop("exit_year", 2018 if status == Household.Status.EXITED else None)
    effective_date = values.pop("effective_date", None)  # of the 建档 event (default today)
    return household_services.household_create(
        actor=actor,
        data=values,
        members=members
        or [
            member_data(),
            member_data(
                name="李四", relation="配偶", sex="女", birth_date=datetime.date(1982, 3, 9)
            ),
        ],
        status=status,
        exit_year=exit_year,
        check_scope=False,
        effective_date=effective_date,
    )


def active_members(household_: Household) -> list[Member]:
    return list(household_.members.filter(is_active=True).order_by("id"))
