"""The registry's checks, run before anything is written: coded values against the year's
value lists, a household's own fields, one member's data (ID number, birth date, sex), the
rules across a household's active members (one 户主 of age, no ID twice), and the rule that a
person is an active member of one household only. Each returns errors keyed by field
(`members.2.id_number`), so a caller can report every problem at once; the importer runs the
same checks over a whole file (`households.imports`)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from households import identity
from households.models import Household, Member, ValueList
from households.services.fields import (
    FEMALE_RELATIONS,
    HEAD,
    HOUSEHOLD_LIST_FIELDS,
    MALE_RELATIONS,
    MEMBER_LIST_FIELDS,
    MIN_HEAD_AGE,
    SPOUSE,
)
from povertyapp.models import Region
from povertyapp.privacy import mask


def _check_labels(
    values: Mapping[str, Any],
    fields: Mapping[str, str],
    lists: Mapping[str, list[str]],
    prefix: str = "",
) -> dict[str, list[ValidationError]]:
    errors: dict[str, list[ValidationError]] = {}
    for field, list_key in fields.items():
        value = values.get(field)
        if value in (None, ""):
            continue
        allowed = lists.get(list_key, [])
        if value not in allowed:
            errors.setdefault(prefix + field, []).append(
                ValidationError(
                    _("“%(value)s”不在%(list)s代码表中。"),
                    code="not_in_value_list",
                    params={"value": value, "list": ValueList(list_key).label},
                )
            )
    return errors


def _household_errors(
    data: Mapping[str, Any], *, lists: Mapping[str, list[str]], registered: bool
) -> dict[str, list[ValidationError]]:
    errors = _check_labels(data, HOUSEHOLD_LIST_FIELDS, lists)
    main = data.get("main_cause") or ""
    others = [data.get("other_cause_1") or "", data.get("other_cause_2") or ""]
    if registered and not main:
        errors.setdefault("main_cause", []).append(
            ValidationError(_("建档立卡户必须填写主要致贫原因。"), code="cause_required")
        )
    for field, other in zip(("other_cause_1", "other_cause_2"), others, strict=True):
        if other and other == main:
            errors.setdefault(field, []).append(
                ValidationError(_("其他致贫原因不能与主要致贫原因重复。"), code="cause_repeated")
            )
    if others[0] and others[0] == others[1]:
        errors.setdefault("other_cause_2", []).append(
            ValidationError(_("两项其他致贫原因不能相同。"), code="cause_repeated")
        )
    village = data.get("village")
    group = data.get("group")
    if village is not None and village.level != Region.Level.VILLAGE:
        errors.setdefault("village", []).append(
            ValidationError(_("请选择行政村。"), code="not_a_village")
        )
    elif village is not None and village.ended_on is not None:
        # A merged-away village (撤并) keeps its history but can no longer be chosen.
        errors.setdefault("village", []).append(
            ValidationError(_("该行政村已撤并，不能再选择。"), code="village_ended")
        )
    if group is not None and (village is None or group.parent_id != village.pk):
        errors.setdefault("group", []).append(
            ValidationError(_("村民小组不属于所选行政村。"), code="group_outside_village")
        )
    first, planned = data.get("first_identified_year"), data.get("planned_exit_year")
    if first and planned and planned < first:
        errors.setdefault("planned_exit_year", []).append(
            ValidationError(_("计划脱贫年度不能早于首次识别年度。"), code="years_ordered")
        )
    if (
        data.get("irrigated_land")
        and data.get("cultivated_land") is not None
        and (data["irrigated_land"] > data["cultivated_land"])
    ):
        errors.setdefault("irrigated_land", []).append(
            ValidationError(_("有效灌溉面积不能大于耕地面积。"), code="irrigated_exceeds_land")
        )
    return errors


def _member_errors(
    data: dict[str, Any], *, lists: Mapping[str, list[str]], prefix: str, today: datetime.date
) -> dict[str, list[ValidationError]]:
    """Check one member's data; fills birth date and sex from a valid ID number when missing."""
    errors = _check_labels(data, MEMBER_LIST_FIELDS, lists, prefix)
    for item in [part for part in (data.get("health") or "").split("、") if part]:
        if item not in lists.get(ValueList.HEALTH, []):
            errors.setdefault(prefix + "health", []).append(
                ValidationError(
                    _("“%(value)s”不在健康状况代码表中。"),
                    code="not_in_value_list",
                    params={"value": item},
                )
            )
    if not (data.get("name") or "").strip():
        errors.setdefault(prefix + "name", []).append(
            ValidationError(_("请填写姓名。"), code="required")
        )
    id_type = data.get("id_type") or identity.RESIDENT_ID
    data["id_type"] = id_type
    raw_id = data.get("id_number") or ""
    if id_type == identity.RESIDENT_ID:
        if not raw_id:
            errors.setdefault(prefix + "id_number", []).append(
                ValidationError(_("请填写身份证号码。"), code="required")
            )
        else:
            try:
                facts = identity.check_id_number(raw_id, today=today)
            except ValidationError as error:
                errors.setdefault(prefix + "id_number", []).extend(error.error_list)
            else:
                data["id_number"] = facts.number
                if not data.get("birth_date"):
                    data["birth_date"] = facts.birth_date
                if not data.get("sex"):
                    data["sex"] = facts.sex
                try:
                    identity.check_agreement(
                        facts, birth_date=data.get("birth_date"), sex=data.get("sex") or ""
                    )
                except ValidationError as error:
                    for field, field_errors in error.error_dict.items():
                        errors.setdefault(prefix + field, []).extend(field_errors)
    birth_date = data.get("birth_date")
    if not birth_date:
        errors.setdefault(prefix + "birth_date", []).append(
            ValidationError(_("请填写出生日期。"), code="required")
        )
    elif birth_date > today:
        errors.setdefault(prefix + "birth_date", []).append(
            ValidationError(_("出生日期不能晚于今天。"), code="birth_date_future")
        )
    if data.get("sex") not in (Member.Sex.MALE, Member.Sex.FEMALE):
        errors.setdefault(prefix + "sex", []).append(
            ValidationError(_("请选择性别。"), code="required")
        )
    months = data.get("work_months") or 0
    if not 0 <= months <= 12:
        errors.setdefault(prefix + "work_months", []).append(
            ValidationError(_("务工时间应在0到12个月之间。"), code="work_months_range")
        )
    if not errors.get(prefix + "sex"):
        relation = data.get("relation") or ""
        if (relation in MALE_RELATIONS and data["sex"] != Member.Sex.MALE) or (
            relation in FEMALE_RELATIONS and data["sex"] != Member.Sex.FEMALE
        ):
            errors.setdefault(prefix + "relation", []).append(
                ValidationError(
                    _("与户主关系“%(relation)s”与性别不符。"),
                    code="relation_sex",
                    params={"relation": relation},
                )
            )
    return errors


def _age(birth_date: datetime.date, today: datetime.date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def _members_set_errors(
    members: list[dict[str, Any]], today: datetime.date
) -> dict[str, list[ValidationError]]:
    """Rules across the household's active members: one 户主 of age, no ID twice."""
    errors: dict[str, list[ValidationError]] = {}
    if not members:
        errors["members"] = [ValidationError(_("一户至少要有一名成员。"), code="no_members")]
        return errors
    heads = [index for index, m in enumerate(members) if m.get("relation") == HEAD]
    if not heads:
        errors["members"] = [ValidationError(_("请指定一名户主。"), code="no_head")]
    for index in heads[1:]:
        errors.setdefault(f"members.{index}.relation", []).append(
            ValidationError(_("一户只能有一名户主。"), code="second_head")
        )
    for index in heads[:1]:
        birth_date = members[index].get("birth_date")
        if birth_date and _age(birth_date, today) < MIN_HEAD_AGE:
            errors.setdefault(f"members.{index}.relation", []).append(
                ValidationError(
                    _("户主应年满%(age)d周岁，该成员只有%(actual)d岁。"),
                    code="head_too_young",
                    params={"age": MIN_HEAD_AGE, "actual": _age(birth_date, today)},
                )
            )
    spouses = [m for m in members if m.get("relation") == SPOUSE]
    if heads and spouses and members[heads[0]].get("sex") == spouses[0].get("sex"):
        errors.setdefault("members", []).append(
            ValidationError(_("户主与配偶性别相同，请核对。"), code="head_spouse_same_sex")
        )
    seen: dict[str, int] = {}
    for index, member in enumerate(members):
        number = member.get("id_number") or ""
        if not number:
            continue
        if number in seen:
            errors.setdefault(f"members.{index}.id_number", []).append(
                ValidationError(
                    _("身份证号码与第%(other)d名成员重复。"),
                    code="duplicate_in_household",
                    params={"other": seen[number] + 1},
                )
            )
        else:
            seen[number] = index
    return errors


def _active_elsewhere_errors(
    members: list[dict[str, Any]], *, household: Household | None, prefix_base: str = "members."
) -> dict[str, list[ValidationError]]:
    numbers = {m["id_number"]: index for index, m in enumerate(members) if m.get("id_number")}
    if not numbers:
        return {}
    clashes = (
        Member.objects.with_id_numbers(numbers)
        .filter(is_active=True)
        .select_related("household", "household__village")
    )
    if household is not None:
        clashes = clashes.exclude(household=household)
    errors: dict[str, list[ValidationError]] = {}
    for clash in clashes:
        index = numbers[clash.id_number]
        errors.setdefault(f"{prefix_base}{index}.id_number", []).append(
            ValidationError(
                _(
                    "身份证号码%(id)s已是%(village)s户编号%(number)s的在户成员，"
                    "一人只能是一户的在户成员。请先办理原户减员或成员迁移。"
                ),
                code="active_elsewhere",
                params={
                    "id": mask(clash.id_number),
                    "village": clash.household.village.name,
                    "number": clash.household.number,
                },
            )
        )
    return errors
