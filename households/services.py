"""Writes to the registry. Views, forms, the API, admin, importers, tasks and commands call these.

Each service validates everything before it writes anything (a ValidationError carries every
problem with a code and a Chinese message), runs in one transaction, records history with the
actor, and writes an event row for every change of status or membership.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Field, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from households import identity
from households.events import event_record
from households.models import (
    AdjustmentRound,
    Household,
    HouseholdEvent,
    HouseholdIncome,
    Member,
    ValueList,
)
from households.selectors import province_of, value_lists
from povertyapp import roles, uploads
from povertyapp.models import Region, User
from povertyapp.privacy import mask

HEAD = "户主"
SPOUSE = "配偶"
MIN_HEAD_AGE = 16
# Household fields the services accept from forms, the API and the importer (not status).
HOUSEHOLD_FIELDS = (
    "village",
    "group",
    "phone",
    "bank_name",
    "bank_account",
    "identification_standard",
    "poverty_attribute",
    "main_cause",
    "other_cause_1",
    "other_cause_2",
    "cause_note",
    "first_identified_year",
    "planned_exit_year",
    "is_military_family",
    "in_cooperative",
    "cultivated_land",
    "irrigated_land",
    "forest_land",
    "returned_farmland",
    "orchard_land",
    "pasture_land",
    "water_surface",
    "has_production_power",
    "has_household_power",
    "has_broadcast_tv",
    "distance_to_road_km",
    "road_type",
    "housing_area",
    "house_grade",
    "house_renovated",
    "water_safe",
    "water_difficult",
    "fuel_type",
    "has_sanitary_toilet",
    "relocated",
    "relocation_mode",
    "relocation_place",
    "food_secure",
    "clothing_secure",
)
MEMBER_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "sex",
    "birth_date",
    "relation",
    "ethnicity",
    "political_status",
    "education",
    "school_status",
    "health",
    "illness_name",
    "disability_certificate",
    "disability_grade",
    "labour_skill",
    "work_status",
    "work_months",
    "is_active_soldier",
    "has_medical_insurance",
    "has_critical_illness_insurance",
    "has_pension_insurance",
    "receives_dibao",
    "is_tekun",
    "living_status",
    "compulsory_education_exemption",
    "phone",
)
HOUSEHOLD_LIST_FIELDS = {
    "poverty_attribute": ValueList.POVERTY_ATTRIBUTE,
    "main_cause": ValueList.CAUSE,
    "other_cause_1": ValueList.CAUSE,
    "other_cause_2": ValueList.CAUSE,
    "road_type": ValueList.ROAD_TYPE,
    "house_grade": ValueList.HOUSE_GRADE,
    "fuel_type": ValueList.FUEL_TYPE,
    "relocation_mode": ValueList.RELOCATION_MODE,
}
MEMBER_LIST_FIELDS = {
    "id_type": ValueList.ID_TYPE,
    "relation": ValueList.RELATION,
    "ethnicity": ValueList.ETHNICITY,
    "political_status": ValueList.POLITICAL_STATUS,
    "education": ValueList.EDUCATION,
    "school_status": ValueList.SCHOOL_STATUS,
    "labour_skill": ValueList.LABOUR_SKILL,
    "work_status": ValueList.WORK_STATUS,
    "living_status": ValueList.LIVING_STATUS,
}
MALE_RELATIONS = {
    "之子",
    "之女婿",
    "之孙子",
    "之外孙子",
    "之父",
    "之岳父",
    "之公公",
    "之祖父",
    "之外祖父",
}
FEMALE_RELATIONS = {
    "之女",
    "之儿媳",
    "之孙女",
    "之外孙女",
    "之母",
    "之岳母",
    "之婆婆",
    "之祖母",
    "之外祖母",
}


class ConflictError(ValidationError):
    """Someone else saved the record after this user loaded it. Carries what changed."""

    def __init__(self, changes: list[dict[str, Any]]) -> None:
        self.changes = changes
        labels = "、".join(change["label"] for change in changes) or _("（成员或状态）")
        super().__init__(
            _(
                "保存冲突：该记录在您打开之后已被%(who)s修改（%(fields)s）。您的修改尚未保存，"
                "请核对后重新提交。"
            )
            % {"who": changes[0]["who"] if changes else _("他人"), "fields": labels},
            code="conflict",
        )


def _today() -> datetime.date:
    return timezone.localdate()


# --- validation -------------------------------------------------------------------------------


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
    clashes = Member.objects.filter(id_number__in=numbers, is_active=True).select_related(
        "household", "household__village"
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


def _raise_if(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


def _require_writer(actor: User, village: Region | None) -> None:
    if actor is None:
        raise ValidationError(_("缺少操作人。"), code="no_actor")
    if not roles.can_write_households(actor):
        raise ValidationError(_("您的角色只能查看，不能修改农户信息。"), code="read_only")
    if village is not None and not roles.region_in_scope(actor, village):
        raise ValidationError(
            {"village": [ValidationError(_("所选行政村不在您的管辖范围内。"), code="out_of_scope")]}
        )


def _lists_for(village: Region, year: int) -> dict[str, list[str]]:
    return value_lists(year=year, province=province_of(village))


def _next_number(village: Region) -> str:
    prefix = village.code
    last = Household.objects.filter(number__startswith=prefix, number__regex=r"^\d+$").aggregate(
        last=Max("number")
    )["last"]
    sequence = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{sequence:04d}"


def _save(instance: Any, *, actor: User | None, reason: str = "", **kwargs: Any) -> None:
    instance._history_user = actor
    if reason:
        instance._change_reason = reason
    instance.full_clean(validate_unique=False, validate_constraints=False)
    instance.save(**kwargs)


# --- households -------------------------------------------------------------------------------


@transaction.atomic
def household_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    members: Iterable[Mapping[str, Any]],
    status: str = Household.Status.NON_REGISTERED,
    exit_year: int | None = None,
    number: str = "",
    effective_date: datetime.date | None = None,
    reason: str = "",
    check_scope: bool = True,
) -> Household:
    """Register a household with its members. New households start as 非建档立卡户 and enter
    the registry through identification; only the county office (or an import it runs) may
    register a household directly with another status."""
    today = _today()
    effective_date = effective_date or today
    values = {field: data[field] for field in HOUSEHOLD_FIELDS if field in data}
    village = values.get("village")
    if check_scope:
        _require_writer(actor, village)
    if status != Household.Status.NON_REGISTERED and check_scope and not roles.can_configure(actor):
        raise ValidationError(
            _("新建农户须经识别程序纳入；只有县扶贫办可直接登记其他状态。"),
            code="status_requires_county",
        )
    member_rows = [dict(member) for member in members]
    lists = _lists_for(village, effective_date.year) if village else {}
    errors = _household_errors(
        values, lists=lists, registered=status in Household.REGISTERED_STATUSES
    )
    if village is None:
        errors.setdefault("village", []).append(
            ValidationError(_("请选择行政村。"), code="required")
        )
    for index, member_row in enumerate(member_rows):
        for key, value in _member_errors(
            member_row, lists=lists, prefix=f"members.{index}.", today=today
        ).items():
            errors.setdefault(key, []).extend(value)
    for key, value in _members_set_errors(member_rows, today).items():
        errors.setdefault(key, []).extend(value)
    for key, value in _active_elsewhere_errors(member_rows, household=None).items():
        errors.setdefault(key, []).extend(value)
    number = (number or "").strip()
    if number and Household.objects.filter(number=number).exists():
        errors.setdefault("number", []).append(
            ValidationError(
                _("户编号%(number)s已存在。"), code="duplicate_number", params={"number": number}
            )
        )
    household = Household(
        number=number or (_next_number(village) if village else ""),
        status=status,
        exit_year=exit_year,
        created_by=actor,
        **values,
    )
    try:
        household.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for key, value in error.error_dict.items():
            errors.setdefault(key, []).extend(value)
    built_members = []
    for index, row in enumerate(member_rows):
        member = Member(
            household=household,
            joined_on=row.get("joined_on") or effective_date,
            **{
                field: row[field]
                for field in MEMBER_FIELDS
                if field in row and row[field] is not None
            },
        )
        try:
            member.full_clean(
                exclude=["household"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            for key, value in error.error_dict.items():
                errors.setdefault(f"members.{index}.{key}", []).extend(value)
        built_members.append(member)
    _raise_if(errors)

    try:
        with transaction.atomic():
            _save(household, actor=actor, reason=reason or _("建档"))
            for member in built_members:
                member.household = household
                _save(member, actor=actor, reason=reason or _("建档"))
    except IntegrityError as error:
        raise ValidationError(
            _("保存失败：户编号或身份证号码与已有记录冲突，请刷新后重试。"), code="integrity"
        ) from error
    event_record(
        household=household,
        kind=HouseholdEvent.Kind.REGISTERED,
        actor=actor,
        effective_date=effective_date,
        to_status=status,
        reason=reason,
        persons=len(built_members),
    )
    return household


def households_bulk_register(
    *,
    actor: User,
    households: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]], Any]],
    reason: str,
    effective_date: datetime.date | None = None,
    batch_size: int = 2000,
    progress: Any = None,
) -> tuple[int, int, int]:
    """Register many households at once (the import of a workbook): the rows
    `household_create` writes for each, written set-wise.

    Each item is (household, members, income): `household` holds `number`, `status`,
    `exit_year` and HOUSEHOLD_FIELDS (village and group as Regions), `members` the
    MEMBER_FIELDS of each member, `income` None or (year, {INCOME_FIELDS}). The caller has
    validated every item with the checks `household_create` runs (`_household_errors`,
    `_member_errors`, `_members_set_errors`, the active-elsewhere look-up, `full_clean`), as
    `households.imports` does for the whole file before it calls this. Here: the actor may
    write, every village is in the actor's scope, only the county office registers a status
    other than 非建档立卡户; the database constraints (unique 户编号, one active household per
    ID number, one head) guard the rest, and any violation rolls back the caller's transaction.

    Written per household, as `household_create` + `income_set` write them: the Household row
    (version 1, created_by = actor) and one history row ("+", history_user = actor,
    change reason = `reason`); each Member (joined_on = the effective date) and its history
    row; the HouseholdIncome and its history row; one 建档 HouseholdEvent (to_status, persons,
    proposed_by = created_by = actor). On PostgreSQL the rows go in with COPY, primary keys
    taken from the tables' sequences; elsewhere with bulk_create. Returns (households,
    members, incomes) written. Must run inside the caller's transaction.
    """
    from itertools import islice

    from django.db import connection

    from povertyapp import bulk

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("households_bulk_register must run inside a transaction")
    _require_writer(actor, None)
    today = _today()
    effective_date = effective_date or today
    may_register = roles.can_configure(actor)
    copy = connection.vendor == "postgresql"
    checked_villages: set[int] = set()
    totals = [0, 0, 0]
    items = iter(households)
    while batch := list(islice(items, batch_size)):
        now = timezone.now()
        villages = {item[0]["village"].pk: item[0]["village"] for item in batch}
        unchecked = set(villages) - checked_villages
        if unchecked:
            in_scope = set(
                roles.region_scope(actor)
                .filter(pk__in=unchecked, level=Region.Level.VILLAGE)
                .values_list("pk", flat=True)
            )
            if unchecked - in_scope:
                raise ValidationError(_("所选行政村不在您的管辖范围内。"), code="out_of_scope")
            checked_villages |= in_scope
        household_rows: list[dict[str, Any]] = []
        for values, _members, _income in batch:
            if values["status"] != Household.Status.NON_REGISTERED and not may_register:
                raise ValidationError(
                    _("新建农户须经识别程序纳入；只有县扶贫办可直接登记其他状态。"),
                    code="status_requires_county",
                )
            row = {key: value for key, value in values.items() if key not in ("village", "group")}
            row["village_id"] = values["village"].pk
            group = values.get("group")
            row["group_id"] = group.pk if group is not None else None
            row.update(created_by_id=actor.pk, version=1, created_at=now, updated_at=now)
            household_rows.append(row)
        member_count = sum(len(item[1]) for item in batch)
        income_count = sum(1 for item in batch if item[2] is not None)
        if copy:
            for row, pk in zip(household_rows, _reserve_ids(Household, len(batch)), strict=True):
                row["id"] = pk
            member_ids = iter(_reserve_ids(Member, member_count))
            income_ids = iter(_reserve_ids(HouseholdIncome, income_count))
        else:
            objects = Household.objects.bulk_create(
                [Household(**row) for row in household_rows], batch_size=500
            )
            for row, instance in zip(household_rows, objects, strict=True):
                row["id"] = instance.pk
        member_rows: list[dict[str, Any]] = []
        income_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        for row, (values, members, income) in zip(household_rows, batch, strict=True):
            for member in members:
                member_row = {
                    key: value
                    for key, value in member.items()
                    if key in MEMBER_FIELDS and value is not None
                }
                member_row.update(
                    household_id=row["id"],
                    joined_on=member.get("joined_on") or effective_date,
                    is_active=True,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                if copy:
                    member_row["id"] = next(member_ids)
                member_rows.append(member_row)
            if income is not None:
                year, amounts = income
                income_row = {"household_id": row["id"], "year": year, "version": 1, **amounts}
                if copy:
                    income_row["id"] = next(income_ids)
                income_rows.append(income_row)
            event_rows.append(
                {
                    "household_id": row["id"],
                    "kind": HouseholdEvent.Kind.REGISTERED,
                    "from_status": "",
                    "to_status": values["status"],
                    "effective_date": effective_date,
                    "reason": reason,
                    "persons": len(members),
                    "proposed_by_id": actor.pk,
                    "created_by_id": actor.pk,
                    "created_at": now,
                    "data": {},
                }
            )
        if copy:
            bulk.load_rows(Household, household_rows, now=now)
            bulk.load_rows(Member, member_rows, now=now)
            bulk.load_rows(HouseholdIncome, income_rows, now=now)
        else:
            created_members = Member.objects.bulk_create(
                [Member(**r) for r in member_rows], batch_size=500
            )
            created_incomes = HouseholdIncome.objects.bulk_create(
                [HouseholdIncome(**r) for r in income_rows], batch_size=500
            )
            for r, created in [
                *zip(member_rows, created_members, strict=True),
                *zip(income_rows, created_incomes, strict=True),
            ]:
                r["id"] = created.pk
        history = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": actor.pk,
        }
        tracked_rows: list[tuple[Any, list[dict[str, Any]]]] = [
            (Household, household_rows),
            (Member, member_rows),
            (HouseholdIncome, income_rows),
        ]
        for model, rows in tracked_rows:
            tracked = [f.attname for f in model.history.model._meta.concrete_fields]
            tracked = [name for name in tracked if name not in history and name != "history_id"]
            bulk.load_rows(
                model.history.model,
                # A field a row leaves out takes the same default as in the row itself.
                ({name: r[name] for name in tracked if name in r} | history for r in rows),
                now=now,
            )
        bulk.load_rows(HouseholdEvent, event_rows, now=now)
        totals[0] += len(batch)
        totals[1] += member_count
        totals[2] += income_count
        if progress is not None:
            progress(len(batch))
    return totals[0], totals[1], totals[2]


def _reserve_ids(model: type[Any], count: int) -> list[int]:
    """`count` primary keys from the table's own sequence (safe with concurrent writers)."""
    if not count:
        return []
    from django.db import connection

    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [f'"{table}"', column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _changes_since(household: Household, expected_version: int) -> list[dict[str, Any]]:
    """What others changed between the version this user loaded and now (for the conflict)."""
    old = household.history.filter(version=expected_version).order_by("-history_id").first()
    new = household.history.order_by("-history_id").first()
    if old is None or new is None:
        return []
    delta = new.diff_against(old)
    who = new.history_user.display_name if new.history_user else ""
    return [
        {
            "field": change.field,
            # History tracks concrete fields only (get_field may also return relations).
            "label": str(
                cast("Field[Any, Any]", Household._meta.get_field(change.field)).verbose_name
            ),
            "old": change.old,
            "new": change.new,
            "who": who,
        }
        for change in delta.changes
        if change.field != "version"
    ] or [{"field": "", "label": _("成员或状态"), "old": "", "new": "", "who": who}]


def _edit_allowed(household: Household) -> None:
    """Edits are refused while the village's round data is under county approval."""
    from households.rounds import household_edit_check

    household_edit_check(household=household)


def _change_round(household: Household, round: AdjustmentRound | None) -> AdjustmentRound | None:
    """The round a change of the household's members or data is recorded in.

    With `round` given, an approved line of that round is being applied (`households.rounds`):
    the round is read again, locked, and must still be open; the edit lock does not apply (the
    county is deciding on this very line). Without it, the edit lock applies, and a membership
    change made while the county has an open round belongs to that round (自然增减 is part of
    动态调整): its event is tagged with the open round, so the round's figures count it.
    """
    if round is not None:
        round = AdjustmentRound.objects.select_for_update().get(pk=round.pk)
        if round.status != AdjustmentRound.Status.OPEN:
            raise ValidationError(_("该动态调整批次已关闭，不能再变动。"), code="round_closed")
        return round
    _edit_allowed(household)
    from households.rounds import round_open_for

    return round_open_for(household.village)


def _lock(household: Household, expected_version: int | None) -> Household:
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_changes_since(locked, expected_version))
    return locked


@transaction.atomic
def household_update(
    *,
    actor: User,
    household: Household,
    data: Mapping[str, Any],
    expected_version: int | None,
    reason: str = "",
    round: AdjustmentRound | None = None,
    proposed_by: User | None = None,
) -> Household:
    """Change a household's own fields. `expected_version` is the version the user loaded:
    if someone saved in between, a ConflictError names what they changed and nothing is saved.
    With `round`, an approved 信息更正 line of that round is applied: a 信息更正 event tagged with
    the round records it."""
    locked = _lock(household, expected_version)
    if round is None:
        _edit_allowed(locked)
    else:
        round = _change_round(locked, round)
    values = {field: data[field] for field in HOUSEHOLD_FIELDS if field in data}
    village = values.get("village", locked.village)
    _require_writer(actor, locked.village)
    if village != locked.village:
        _require_writer(actor, village)
    merged = {field: getattr(locked, field) for field in HOUSEHOLD_FIELDS}
    merged.update(values)
    errors = _household_errors(
        merged, lists=_lists_for(village, _today().year), registered=locked.is_registered
    )
    _raise_if(errors)
    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, values[field])
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=reason or _("修改户信息"),
        update_fields=[*changed, "version", "updated_at"],
    )
    if round is not None:
        event_record(
            household=locked,
            kind=HouseholdEvent.Kind.CORRECTED,
            actor=actor,
            effective_date=_today(),
            reason=reason,
            from_status=locked.status,
            to_status=locked.status,
            round=round,
            proposed_by=proposed_by,
            approved_by=actor,
            data={"fields": changed},
        )
    return locked


@transaction.atomic
def household_change_status(
    *,
    actor: User,
    household: Household,
    kind: str,
    to_status: str,
    effective_date: datetime.date | None = None,
    reason: str = "",
    ground: str = "",
    exit_year: int | None = None,
    round: AdjustmentRound | None = None,
    proposed_by: User | None = None,
    approved_by: User | None = None,
    expected_version: int | None = None,
) -> Household:
    """Apply a status change (识别纳入, 标注脱贫, 返贫, 剔除) and record its event.

    Who may propose and approve is the workflows' business; this service keeps the registry
    consistent: allowed transitions, exit year, the round being open, and the event row.
    """
    locked = _lock(household, expected_version)
    if round is None:
        _edit_allowed(locked)
    else:
        # A stale copy of a round closed meanwhile must not pass: read it again, locked.
        round = AdjustmentRound.objects.select_for_update().get(pk=round.pk)
    allowed: dict[str, set[str]] = {
        HouseholdEvent.Kind.IDENTIFIED: {Household.Status.NON_REGISTERED, Household.Status.REMOVED},
        HouseholdEvent.Kind.EXITED: {Household.Status.POOR, Household.Status.RETURNED},
        HouseholdEvent.Kind.RETURNED: {Household.Status.EXITED},
        HouseholdEvent.Kind.REMOVED: {
            Household.Status.POOR,
            Household.Status.RETURNED,
            Household.Status.EXITED,
        },
    }
    if kind not in allowed:
        raise ValidationError(_("不支持的状态变动类型。"), code="bad_kind")
    if locked.status not in allowed[kind]:
        raise ValidationError(
            _("当前状态为“%(status)s”，不能办理“%(kind)s”。"),
            code="bad_transition",
            params={"status": locked.get_status_display(), "kind": HouseholdEvent.Kind(kind).label},
        )
    if round is not None and round.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭，不能再变动。"), code="round_closed")
    if kind == HouseholdEvent.Kind.REMOVED and not (ground or reason):
        raise ValidationError(_("剔除必须填写理由。"), code="ground_required")
    effective_date = effective_date or _today()
    from_status = locked.status
    locked.status = to_status
    if kind == HouseholdEvent.Kind.EXITED:
        locked.exit_year = exit_year or effective_date.year
    elif kind == HouseholdEvent.Kind.IDENTIFIED:
        locked.exit_year = None
        locked.first_identified_year = locked.first_identified_year or effective_date.year
    if locked.status in Household.REGISTERED_STATUSES and not locked.main_cause:
        raise ValidationError(
            {
                "main_cause": [
                    ValidationError(_("纳入建档立卡前须填写主要致贫原因。"), code="cause_required")
                ]
            }
        )
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=reason or str(HouseholdEvent.Kind(kind).label),
        update_fields=["status", "exit_year", "first_identified_year", "version", "updated_at"],
    )
    event_record(
        household=locked,
        kind=kind,
        actor=actor,
        effective_date=effective_date,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        ground=ground,
        round=round,
        proposed_by=proposed_by,
        approved_by=approved_by,
    )
    return locked


# --- members ----------------------------------------------------------------------------------


def _active_rows(
    household: Household, *, replacing: Member | None = None, adding: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for member in household.members.filter(is_active=True).order_by("id"):
        if replacing is not None and member.pk == replacing.pk:
            continue
        rows.append(
            {
                "relation": member.relation,
                "sex": member.sex,
                "birth_date": member.birth_date,
                "id_number": member.id_number,
            }
        )
    if adding is not None:
        rows.append(adding)
    return rows


def _set_errors_for_new(
    rows: list[dict[str, Any]], today: datetime.date, prefix: str
) -> dict[str, list[ValidationError]]:
    """Household-set rules, reported on the member being written (the last row)."""
    errors = _members_set_errors(rows, today)
    last = len(rows) - 1
    renamed: dict[str, list[ValidationError]] = {}
    for key, value in errors.items():
        if key.startswith(f"members.{last}."):
            renamed[prefix + key.removeprefix(f"members.{last}.")] = value
        elif key.startswith("members."):
            # An existing member's error means the new one clashes with it.
            renamed.setdefault(prefix + key.rsplit(".", 1)[1], []).extend(value)
        else:
            renamed.setdefault(key, []).extend(value)
    return renamed


@transaction.atomic
def member_add(
    *,
    actor: User,
    household: Household,
    data: Mapping[str, Any],
    reason: str = "",
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
    round: AdjustmentRound | None = None,
    proposed_by: User | None = None,
) -> Member:
    """自然增减（增员）: a member joins (birth, marriage in, return...). The event is tagged with
    the county's open round (or the given round, when an approved line is applied)."""
    locked = _lock(household, expected_version)
    applying = round is not None
    round = _change_round(locked, round)
    _require_writer(actor, locked.village)
    today = _today()
    row = dict(data)
    lists = _lists_for(locked.village, today.year)
    errors = _member_errors(row, lists=lists, prefix="", today=today)
    if effective_date is not None and effective_date > today:
        errors.setdefault("effective_date", []).append(
            ValidationError(_("增员日期不能晚于今天。"), code="bad_date")
        )
    if reason and reason not in lists.get(ValueList.JOIN_REASON, []) and len(reason) > 64:
        errors.setdefault("reason", []).append(
            ValidationError(_("增员原因过长。"), code="reason_too_long")
        )
    if not errors:
        for key, value in _set_errors_for_new(
            _active_rows(locked, adding=row), today, prefix=""
        ).items():
            errors.setdefault(key, []).extend(value)
        for key, value in _active_elsewhere_errors([row], household=None, prefix_base="").items():
            errors.setdefault(key.removeprefix("0."), []).extend(value)
    member = Member(
        household=locked,
        joined_on=effective_date or today,
        **{field: row[field] for field in MEMBER_FIELDS if field in row and row[field] is not None},
    )
    if not errors:
        try:
            member.full_clean(
                exclude=["household"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors.update(error.error_dict)
    _raise_if(errors)
    _save(member, actor=actor, reason=reason or _("增员"))
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    event_record(
        household=locked,
        kind=HouseholdEvent.Kind.MEMBER_JOINED,
        actor=actor,
        effective_date=effective_date or today,
        reason=reason,
        member=member,
        from_status=locked.status,
        to_status=locked.status,
        round=round,
        proposed_by=proposed_by,
        approved_by=actor if applying else None,
    )
    return member


@transaction.atomic
def member_update(
    *,
    actor: User,
    member: Member,
    data: Mapping[str, Any],
    expected_version: int | None,
    reason: str = "",
    round: AdjustmentRound | None = None,
    proposed_by: User | None = None,
) -> Member:
    """Correct or update a member's data (信息更正). With `round`, an approved 信息更正 line of
    that round is applied: a 信息更正 event tagged with the round records it."""
    locked = (
        Member.objects.select_for_update().select_related("household__village").get(pk=member.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("成员信息"), "old": "", "new": "", "who": ""}]
        )
    if not locked.is_active:
        raise ValidationError(_("该成员已减员，不能修改。"), code="inactive_member")
    if round is None:
        _edit_allowed(locked.household)
    else:
        round = _change_round(locked.household, round)
    _require_writer(actor, locked.household.village)
    today = _today()
    row = {field: getattr(locked, field) for field in MEMBER_FIELDS}
    row.update({key: value for key, value in data.items() if key in MEMBER_FIELDS})
    if "id_number" in data and data["id_number"] != locked.id_number:
        # A new ID number carries its own birth date and sex unless both are given.
        if "birth_date" not in data:
            row["birth_date"] = None
        if "sex" not in data:
            row["sex"] = ""
    lists = _lists_for(locked.household.village, today.year)
    errors = _member_errors(row, lists=lists, prefix="", today=today)
    if not errors:
        for key, value in _set_errors_for_new(
            _active_rows(locked.household, replacing=locked, adding=row), today, prefix=""
        ).items():
            errors.setdefault(key, []).extend(value)
        for key, value in _active_elsewhere_errors(
            [row], household=locked.household, prefix_base=""
        ).items():
            errors.setdefault(key.removeprefix("0."), []).extend(value)
    _raise_if(errors)
    changed = [field for field in MEMBER_FIELDS if getattr(locked, field) != row[field]]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, row[field])
    locked.version += 1
    try:
        with transaction.atomic():
            _save(
                locked,
                actor=actor,
                reason=reason or _("信息更正"),
                update_fields=[*changed, "version", "updated_at"],
            )
    except IntegrityError as error:
        raise ValidationError(
            {
                "id_number": [
                    ValidationError(_("身份证号码已是其他户的在户成员。"), code="active_elsewhere")
                ]
            }
        ) from error
    household = Household.objects.select_for_update().get(pk=locked.household_id)
    household.version += 1
    household.save(update_fields=["version", "updated_at"])
    if round is not None:
        event_record(
            household=household,
            kind=HouseholdEvent.Kind.CORRECTED,
            actor=actor,
            effective_date=today,
            reason=reason,
            member=locked,
            from_status=household.status,
            to_status=household.status,
            round=round,
            proposed_by=proposed_by,
            approved_by=actor,
            data={"fields": changed},
        )
    return locked


@transaction.atomic
def member_remove(
    *,
    actor: User,
    member: Member,
    reason: str,
    effective_date: datetime.date | None = None,
    note: str = "",
    round: AdjustmentRound | None = None,
    proposed_by: User | None = None,
) -> Member:
    """自然增减（减员）: death, marriage out, household split, moving away... never a deletion.
    The event is tagged with the county's open round (or the given round, when an approved
    line is applied)."""
    locked = (
        Member.objects.select_for_update().select_related("household__village").get(pk=member.pk)
    )
    applying = round is not None
    round = _change_round(locked.household, round)
    _require_writer(actor, locked.household.village)
    today = _today()
    reasons = _lists_for(locked.household.village, today.year).get(ValueList.LEAVE_REASON, [])
    if not locked.is_active:
        raise ValidationError(_("该成员已减员。"), code="inactive_member")
    if reason not in reasons:
        raise ValidationError(
            {
                "reason": [
                    ValidationError(
                        _("请选择减员原因（%(reasons)s）。"),
                        code="reason_required",
                        params={"reasons": "、".join(reasons)},
                    )
                ]
            }
        )
    effective_date = effective_date or today
    if effective_date > today or effective_date < locked.birth_date:
        raise ValidationError(
            {"effective_date": [ValidationError(_("减员日期不合理。"), code="bad_date")]}
        )
    others = locked.household.members.filter(is_active=True).exclude(pk=locked.pk)
    if locked.relation == HEAD and others.exists():
        raise ValidationError(_("户主减员前，请先将另一名成员设为户主。"), code="head_leaving")
    locked.is_active = False
    locked.left_reason = reason
    locked.left_on = effective_date
    if reason == "死亡":
        locked.living_status = "死亡"
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=f"{_('减员')}：{reason}",
        update_fields=[
            "is_active",
            "left_reason",
            "left_on",
            "living_status",
            "version",
            "updated_at",
        ],
    )
    household = Household.objects.select_for_update().get(pk=locked.household_id)
    household.version += 1
    household.save(update_fields=["version", "updated_at"])
    event_record(
        household=household,
        kind=HouseholdEvent.Kind.MEMBER_LEFT,
        actor=actor,
        effective_date=effective_date,
        reason=f"{reason} {note}".strip(),
        member=locked,
        from_status=household.status,
        to_status=household.status,
        round=round,
        proposed_by=proposed_by,
        approved_by=actor if applying else None,
    )
    return locked


@transaction.atomic
def member_move(
    *,
    actor: User,
    member: Member,
    to_household: Household,
    relation: str,
    effective_date: datetime.date | None = None,
    reason: str = "",
) -> Member:
    """Move a person to another household (分户, 婚嫁 within the county): the old record leaves
    with the reason 迁出 and a new member record joins the target household with history on both
    sides. The person's data travel with them."""
    source = (
        Member.objects.select_for_update().select_related("household__village").get(pk=member.pk)
    )
    if to_household.pk == source.household_id:
        raise ValidationError(_("目标户与原户相同。"), code="same_household")
    _require_writer(actor, source.household.village)
    _require_writer(actor, to_household.village)
    source_round = _change_round(source.household, None)
    _edit_allowed(to_household)
    if not source.is_active:
        raise ValidationError(_("该成员已减员，不能迁移。"), code="inactive_member")
    if (
        source.relation == HEAD
        and source.household.members.filter(is_active=True).exclude(pk=source.pk).exists()
    ):
        raise ValidationError(_("户主迁出前，请先将另一名成员设为户主。"), code="head_leaving")
    effective_date = effective_date or _today()
    data = {field: getattr(source, field) for field in MEMBER_FIELDS}
    data["relation"] = relation
    # Leave first (frees the ID number), then join; one transaction, so all or nothing.
    source.is_active = False
    source.left_reason = "迁出"
    source.left_on = effective_date
    source.version += 1
    _save(
        source,
        actor=actor,
        reason=_("成员迁移至%(number)s") % {"number": to_household.number},
        update_fields=["is_active", "left_reason", "left_on", "version", "updated_at"],
    )
    old_household = Household.objects.select_for_update().get(pk=source.household_id)
    old_household.version += 1
    old_household.save(update_fields=["version", "updated_at"])
    event_record(
        household=old_household,
        kind=HouseholdEvent.Kind.MEMBER_MOVED,
        actor=actor,
        effective_date=effective_date,
        reason=reason,
        member=source,
        from_status=old_household.status,
        to_status=old_household.status,
        round=source_round,
        data={"to_household": to_household.number},
    )
    joined = member_add(
        actor=actor,
        household=to_household,
        data=data,
        reason=reason or _("迁入"),
        effective_date=effective_date,
    )
    return joined


# --- income -----------------------------------------------------------------------------------

INCOME_FIELDS = (
    "wage",
    "production",
    "property_income",
    "family_planning",
    "dibao",
    "tekun",
    "pension",
    "eco_compensation",
    "other_transfer",
    "production_cost",
    "compliant_out_of_pocket",
    "insurance_claims",
)


@transaction.atomic
def income_set(
    *,
    actor: User,
    household: Household,
    year: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> HouseholdIncome:
    """Record or correct a household's income for a year."""
    _edit_allowed(household)
    _require_writer(actor, household.village)
    if year > _today().year:
        raise ValidationError(
            {"year": [ValidationError(_("收入年度不能晚于今年。"), code="future_year")]}
        )
    income, created = HouseholdIncome.objects.select_for_update().get_or_create(
        household=household, year=year
    )
    if not created and expected_version is not None and income.version != expected_version:
        raise ConflictError([{"field": "", "label": _("收入"), "old": "", "new": "", "who": ""}])
    stored = [getattr(income, field) for field in INCOME_FIELDS]
    for field in INCOME_FIELDS:
        if field in data and data[field] is not None:
            setattr(income, field, data[field])
    if not created and stored == [getattr(income, field) for field in INCOME_FIELDS]:
        # Saved unchanged: no new version and no history row.
        return income
    if not created:
        income.version += 1
    _save(income, actor=actor, reason=_("录入收入"))
    return income


# --- the edit page: household and members saved together ---------------------------------------


@transaction.atomic
def household_update_with_members(
    *,
    actor: User,
    household: Household,
    data: Mapping[str, Any],
    members: list[Mapping[str, Any]],
    expected_version: int | None,
    join_reason: str = "",
    reason: str = "",
) -> Household:
    """The edit form: the household's fields and its active members in one all-or-nothing save.

    `members` lists every active member as the form shows them: a row with `id` corrects that
    member (信息更正), a row without one is a new member (自然增减·增员, with `join_reason`).
    Removing and moving members are separate services (member_remove, member_move), never a
    silent deletion: an active member missing from `members` is an error. Errors are keyed
    like `members.2.id_number` (the row's position in `members`).
    """
    locked = _lock(household, expected_version)
    round = _change_round(locked, None)
    values = {field: data[field] for field in HOUSEHOLD_FIELDS if field in data}
    village = values.get("village", locked.village)
    _require_writer(actor, locked.village)
    if village != locked.village:
        _require_writer(actor, village)
    today = _today()
    lists = _lists_for(village, today.year)
    merged = {field: getattr(locked, field) for field in HOUSEHOLD_FIELDS}
    merged.update(values)
    errors = _household_errors(merged, lists=lists, registered=locked.is_registered)
    probe = Household(
        **{
            **merged,
            "number": locked.number,
            "status": locked.status,
            "exit_year": locked.exit_year,
        }
    )
    try:
        probe.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for key, value in error.error_dict.items():
            errors.setdefault(key, []).extend(value)

    active = {member.pk: member for member in locked.members.filter(is_active=True)}
    rows: list[dict[str, Any]] = []
    targets: list[Member | None] = []
    for index, given in enumerate(members):
        member_id = given.get("id")
        existing = active.get(member_id) if member_id else None
        if member_id and existing is None:
            errors.setdefault(f"members.{index}.id", []).append(
                ValidationError(_("该成员不在本户在户成员中，请刷新页面。"), code="unknown_member")
            )
            continue
        row = {field: getattr(existing, field) for field in MEMBER_FIELDS} if existing else {}
        row.update({key: value for key, value in given.items() if key in MEMBER_FIELDS})
        if existing is not None and row.get("id_number") != existing.id_number:
            # A corrected ID number carries its own birth date and sex unless both are given.
            if "birth_date" not in given:
                row["birth_date"] = None
            if "sex" not in given:
                row["sex"] = ""
        for key, value in _member_errors(
            row, lists=lists, prefix=f"members.{index}.", today=today
        ).items():
            errors.setdefault(key, []).extend(value)
        probe_member = Member(
            household=locked,
            **{field: row[field] for field in MEMBER_FIELDS if row.get(field) is not None},
        )
        try:
            probe_member.full_clean(
                exclude=["household"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            for key, value in error.error_dict.items():
                errors.setdefault(f"members.{index}.{key}", []).extend(value)
        rows.append(row)
        targets.append(existing)
    missing = set(active) - {member.pk for member in targets if member is not None}
    if missing:
        errors.setdefault("members", []).append(
            ValidationError(
                _("成员减员请使用“减员”或“迁移”办理，不能直接删除。"), code="member_missing"
            )
        )
    if not errors:
        for key, value in _members_set_errors(rows, today).items():
            errors.setdefault(key, []).extend(value)
        for key, value in _active_elsewhere_errors(rows, household=locked).items():
            errors.setdefault(key, []).extend(value)
    if (
        any(target is None for target in targets)
        and join_reason
        and join_reason not in lists.get(ValueList.JOIN_REASON, [])
    ):
        errors.setdefault("join_reason", []).append(
            ValidationError(_("请选择增员原因。"), code="reason_required")
        )
    _raise_if(errors)

    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    for field in changed:
        setattr(locked, field, values[field])

    # Demote a former head first so that the one-head constraint holds at every statement.
    def demotion_first(index: int) -> int:
        target = targets[index]
        demoted = (
            target is not None and target.relation == HEAD and rows[index].get("relation") != HEAD
        )
        return 0 if demoted else 1

    order = sorted(range(len(rows)), key=demotion_first)
    touched = bool(changed)
    try:
        with transaction.atomic():
            for index in order:
                row, target = rows[index], targets[index]
                if target is None:
                    member = Member(
                        household=locked,
                        joined_on=today,
                        **{
                            field: row[field]
                            for field in MEMBER_FIELDS
                            if row.get(field) is not None
                        },
                    )
                    _save(member, actor=actor, reason=join_reason or _("增员"))
                    event_record(
                        household=locked,
                        kind=HouseholdEvent.Kind.MEMBER_JOINED,
                        actor=actor,
                        effective_date=today,
                        reason=join_reason,
                        member=member,
                        from_status=locked.status,
                        to_status=locked.status,
                        round=round,
                    )
                    touched = True
                    continue
                fields = [field for field in MEMBER_FIELDS if getattr(target, field) != row[field]]
                if not fields:
                    continue
                for field in fields:
                    setattr(target, field, row[field])
                target.version += 1
                _save(
                    target,
                    actor=actor,
                    reason=reason or _("信息更正"),
                    update_fields=[*fields, "version", "updated_at"],
                )
                touched = True
    except IntegrityError as error:
        raise ValidationError(
            _("保存失败：身份证号码或户主与已有记录冲突，请刷新后重试。"), code="integrity"
        ) from error
    if not touched:
        return locked
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=reason or _("修改户信息"),
        update_fields=[*changed, "version", "updated_at"],
    )
    return locked


# --- procedures: identification and exit with 公示 (households.workflows) ----------------------


def _workflow_lock(workflow: Any, expected_step: str | None) -> Any:
    from households.models import CaseWorkflow

    locked = (
        CaseWorkflow.objects.select_for_update()
        .select_related("household", "household__village")
        .get(pk=workflow.pk)
    )
    if locked.state != CaseWorkflow.State.OPEN:
        raise ValidationError(_("该程序已办结或终止。"), code="workflow_closed")
    if expected_step is not None and locked.step != expected_step:
        raise ValidationError(
            _("该案件已由他人办理到“%(step)s”环节，请刷新页面。"),
            code="workflow_moved",
            params={"step": _workflows().procedure(locked.kind).step(locked.step).label},
        )
    return locked


def _workflows():
    from households import workflows

    return workflows


def _require_step_owner(actor: User, workflow: Any) -> None:
    workflows = _workflows()
    if not workflows.can_act(actor, workflow):
        step = workflows.current_step(workflow)
        raise ValidationError(
            _("“%(step)s”环节由%(level)s办理，您无权办理。"),
            code="not_step_owner",
            params={"step": step.label, "level": workflows.LEVEL_LABELS[step.level]},
        )


# The legal order (DOMAIN §4): every date of a case is checked here, for the pages, the API,
# importers and the demo alike. A 公示 is counted in natural days, its first day included.
OLDEST_APPLICATION_DAYS = 365


def _date_error(message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError(
        message,
        code=code,
        params={
            key: value.isoformat() if isinstance(value, datetime.date) else value
            for key, value in params.items()
        },
    )


def _check_opening_date(opened_on: datetime.date, today: datetime.date) -> None:
    if opened_on > today:
        raise ValidationError(
            {
                "effective_date": [
                    _date_error(
                        _("受理日期（%(date)s）不能晚于今天（%(today)s）。"),
                        "date_in_future",
                        date=opened_on,
                        today=today,
                    )
                ]
            }
        )
    if opened_on < today - datetime.timedelta(days=OLDEST_APPLICATION_DAYS):
        raise ValidationError(
            {
                "effective_date": [
                    _date_error(
                        _("受理日期（%(date)s）早于一年前，请核对。"),
                        "date_too_old",
                        date=opened_on,
                    )
                ]
            }
        )


def _latest_record(workflow: Any) -> Any:
    """The case's latest dated record: the step every new date must follow."""
    return workflow.steps.order_by("-acted_on", "-created_at", "-id").first()


def _step_date_errors(
    workflow: Any, step: Any, acted_on: datetime.date, today: datetime.date
) -> list[ValidationError]:
    """Why an action step may not be dated `acted_on` (empty when it may)."""
    workflows = _workflows()
    errors = []
    if acted_on > today:
        errors.append(
            _date_error(
                _("“%(step)s”的办理日期（%(date)s）不能晚于今天（%(today)s）。"),
                "date_in_future",
                step=step.label,
                date=acted_on,
                today=today,
            )
        )
    latest = _latest_record(workflow)
    if latest is None and acted_on < workflow.opened_on:
        errors.append(
            _date_error(
                _("“%(step)s”的办理日期（%(date)s）不能早于受理日期（%(opened)s）。"),
                "before_case_opened",
                step=step.label,
                date=acted_on,
                opened=workflow.opened_on,
            )
        )
    definition = workflows.procedure(workflow.kind)
    position = definition.index(step.key)
    previous = definition.steps[position - 1] if position else None
    if previous is not None and previous.type == workflows.NOTICE:
        notice = workflow.notices.filter(step=previous.key).order_by("-start_date", "-id").first()
        if notice is not None and acted_on <= notice.end_date:
            errors.append(
                _date_error(
                    _(
                        "“%(previous)s”公示期为%(start)s至%(end)s，“%(step)s”须在公示期满后"
                        "办理，办理日期（%(date)s）不符。"
                    ),
                    "notice_term",
                    previous=previous.label,
                    start=notice.start_date,
                    end=notice.end_date,
                    step=step.label,
                    date=acted_on,
                )
            )
            return errors
    if latest is not None and acted_on < latest.acted_on:
        errors.append(
            _date_error(
                _(
                    "“%(step)s”的办理日期（%(date)s）不能早于上一环节“%(previous)s”的日期（%(previous_date)s）。"
                ),
                "before_previous_step",
                step=step.label,
                date=acted_on,
                previous=latest.label,
                previous_date=latest.acted_on,
            )
        )
    return errors


def _notice_date_errors(
    workflow: Any, step: Any, start_date: datetime.date, days: int, today: datetime.date
) -> list[ValidationError]:
    """Why a 公示 may not start on `start_date`: it starts after the step before it (and after
    any earlier 公示 has ended), on or after the case was opened, not in the future."""
    errors = []
    end = start_date + datetime.timedelta(days=max(days or 1, 1) - 1)
    if start_date > today:
        errors.append(
            _date_error(
                _("“%(step)s”的开始日期（%(date)s）不能晚于今天（%(today)s）。"),
                "date_in_future",
                step=step.label,
                date=start_date,
                today=today,
            )
        )
    latest = _latest_record(workflow)
    if latest is None and start_date < workflow.opened_on:
        errors.append(
            _date_error(
                _("“%(step)s”的开始日期（%(date)s）不能早于受理日期（%(opened)s）。"),
                "before_case_opened",
                step=step.label,
                date=start_date,
                opened=workflow.opened_on,
            )
        )
    earlier = workflow.notices.exclude(step=step.key).order_by("-start_date", "-id").first()
    if earlier is not None and start_date <= earlier.end_date:
        errors.append(
            _date_error(
                _(
                    "“%(step)s”（%(start)s至%(end)s）须在此前的公示（%(earlier_start)s至"
                    "%(earlier_end)s）结束之后开始。"
                ),
                "notice_before_earlier_notice",
                step=step.label,
                start=start_date,
                end=end,
                earlier_start=earlier.start_date,
                earlier_end=earlier.end_date,
            )
        )
    # The same day is allowed: a village posts the list the day its meeting verified it.
    if latest is not None and start_date < latest.acted_on:
        errors.append(
            _date_error(
                _(
                    "“%(step)s”（%(start)s至%(end)s）不能早于上一环节“%(previous)s”的日期"
                    "（%(previous_date)s）。"
                ),
                "notice_before_previous_step",
                step=step.label,
                start=start_date,
                end=end,
                previous=latest.label,
                previous_date=latest.acted_on,
            )
        )
    return errors


def exit_refusals(household: Household, *, year: int, on: datetime.date) -> list[str]:
    """Why a household may not exit this year (empty when it may): DOMAIN §4–§5."""
    from households import standards

    members = list(household.members.all())
    income = (
        household.incomes.filter(year=year - 1).first()
        or household.incomes.filter(year=year).first()
    )
    income_year = income.year if income else year - 1
    checks = standards.evaluate_exit(household, members, income, year=income_year, on=on)
    reasons = []
    if household.first_identified_year == year:
        reasons.append(
            str(_("当年新识别的贫困户不能当年退出（首次识别年度%(year)s）。") % {"year": year})
        )
    for check in standards.failed(checks):
        if check.key == "new":
            continue  # judged against the current year above
        reasons.append(f"{check.label}：{check.reason}")
    return reasons


@transaction.atomic
def workflow_start(
    *,
    actor: User,
    household: Household,
    kind: str,
    opinion: str = "",
    evidence: Any = None,
    effective_date: datetime.date | None = None,
) -> Any:
    """Open a procedure for a household (the village starts identification with the 农户申请,
    exit with its 民主评议 once the exit test is met). Refused with the reason otherwise.
    `effective_date` is the day the case was opened (the application's date, default today):
    no later step may be dated before it, and the statutory clock runs from it."""
    from households.models import CaseWorkflow, WorkflowStep

    workflows = _workflows()
    definition = workflows.procedure(kind)
    locked = _lock(household, None)
    first = definition.steps[0]
    if actor.role != workflows.LEVEL_ROLES[first.level] or not roles.region_in_scope(
        actor, locked.village
    ):
        raise ValidationError(_("只有本村的村级录入员可以发起该程序。"), code="not_step_owner")
    if locked.status not in definition.from_statuses:
        raise ValidationError(
            _("当前状态为“%(status)s”，不能发起“%(kind)s”。"),
            code="bad_transition",
            params={"status": locked.get_status_display(), "kind": definition.label},
        )
    if CaseWorkflow.objects.filter(household=locked, state=CaseWorkflow.State.OPEN).exists():
        raise ValidationError(_("该户已有正在办理的程序。"), code="workflow_open")
    today = _today()
    if kind == CaseWorkflow.Kind.IDENTIFICATION and not locked.main_cause:
        raise ValidationError(
            {
                "main_cause": [
                    ValidationError(_("发起识别前须填写主要致贫原因。"), code="cause_required")
                ]
            }
        )
    if kind == CaseWorkflow.Kind.EXIT:
        refusals = exit_refusals(locked, year=today.year, on=today)
        if refusals:
            raise ValidationError(
                _("不符合退出标准：%(reasons)s"),
                code="exit_refused",
                params={"reasons": "；".join(refusals)},
            )
    opened_on = effective_date or today
    _check_opening_date(opened_on, today)
    now = timezone.now()
    round_ = AdjustmentRound.objects.filter(
        county__in=[node.pk for node in locked.village.ancestors(include_self=True)],
        status=AdjustmentRound.Status.OPEN,
    ).first()
    workflow = CaseWorkflow(
        household=locked,
        kind=kind,
        step=first.key,
        round=round_,
        year=today.year,
        started_at=now,
        started_by=actor,
        step_since=now,
        opened_on=opened_on,
        # The statutory clock runs from the application, computed once here.
        deadline=workflows.deadline_for(kind, opened_on),
    )
    workflow.full_clean(validate_constraints=False)
    workflow.save()
    if kind == CaseWorkflow.Kind.IDENTIFICATION:
        # The application is the first step: recorded as done by whoever registers it.
        _step_record(
            workflow,
            first,
            actor,
            WorkflowStep.Decision.DONE,
            opinion,
            evidence,
            None,
            opened_on,
        )
        workflow.step = definition.next_step(first.key).key
        workflow.save(update_fields=["step"])
    return workflow


def _step_record(
    workflow: Any,
    step: Any,
    actor: User,
    decision: str,
    opinion: str,
    evidence: Any,
    attendance: int | None,
    acted_on: datetime.date,
) -> Any:
    from households.models import WorkflowStep

    record = WorkflowStep(
        workflow=workflow,
        step=step.key,
        label=str(step.label),
        role=step.level,
        decision=decision,
        opinion=opinion or "",
        attendance=attendance,
        actor=actor,
        acted_on=acted_on,
    )
    if evidence:
        try:
            uploads.check_evidence(evidence, accept=uploads.IMAGES_AND_PDF)
        except ValidationError as error:
            raise ValidationError({"evidence": error.error_list}) from None
        record.evidence = evidence
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def workflow_step_complete(
    *,
    actor: User,
    workflow: Any,
    expected_step: str,
    opinion: str = "",
    evidence: Any = None,
    attendance: int | None = None,
    acted_on: datetime.date | None = None,
) -> Any:
    """Do the current step (the owning role only), dated `acted_on` (default today) in the legal
    order: not in the future, not before the case was opened or the previous step, not before a
    preceding 公示 has run its full term. A 公示 step completes when its notice has run its full
    length without objection (dated the day after it ends); the last step changes the
    household's status, effective on its date."""
    from households.models import WorkflowStep

    workflows = _workflows()
    locked = _workflow_lock(workflow, expected_step)
    _require_step_owner(actor, locked)
    definition = workflows.procedure(locked.kind)
    step = definition.step(locked.step)
    today = _today()
    errors: dict[str, list[ValidationError]] = {}
    if step.type == workflows.NOTICE:
        notice = locked.notices.filter(step=step.key, is_open=True).first()
        if notice is None:
            raise ValidationError(_("请先发布公示。"), code="notice_missing")
        if today <= notice.end_date:
            raise ValidationError(
                _("公示期至%(end)s结束，期满无异议后方可办结。"),
                code="notice_running",
                params={"end": notice.end_date.isoformat()},
            )
        notice.is_open = False
        notice.save(update_fields=["is_open"])
        opinion = opinion or str(_("公示期满无异议"))
        # The 公示 is done when its term has run out without objection.
        acted_on = notice.end_date + datetime.timedelta(days=1)
    else:
        acted_on = acted_on or today
        if not (opinion or "").strip():
            errors["opinion"] = [ValidationError(_("请填写办理意见。"), code="required")]
        if step.needs_evidence and not evidence:
            errors["evidence"] = [
                ValidationError(_("请上传佐证材料（会议记录、照片或扫描件）。"), code="required")
            ]
        if step.needs_attendance and not attendance:
            errors["attendance"] = [ValidationError(_("请填写参会人数。"), code="required")]
        date_errors = _step_date_errors(locked, step, acted_on, today)
        if date_errors:
            errors["acted_on"] = date_errors
    _raise_if(errors)
    _step_record(
        locked, step, actor, WorkflowStep.Decision.DONE, opinion, evidence, attendance, acted_on
    )
    following = definition.next_step(step.key)
    now = timezone.now()
    if following is None:
        household = locked.household
        if locked.kind == "exit":
            refusals = exit_refusals(household, year=today.year, on=today)
            if refusals:
                raise ValidationError(
                    _("不符合退出标准：%(reasons)s"),
                    code="exit_refused",
                    params={"reasons": "；".join(refusals)},
                )
        proposer = locked.started_by
        household_change_status(
            actor=actor,
            household=household,
            kind=definition.event_kind,
            to_status=definition.to_status,
            effective_date=acted_on,
            round=locked.round,
            reason=f"{definition.label}：{opinion}",
            proposed_by=proposer,
            approved_by=actor,
        )
        locked.state = locked.State.DONE
        locked.finished_at = now
        locked.save(update_fields=["state", "finished_at"])
        return locked
    locked.step = following.key
    locked.step_since = now
    locked.version += 1
    locked.save(update_fields=["step", "step_since", "version"])
    return locked


def _case_event(locked: Any, *, kind: str, actor: User, reason: str, data: dict[str, Any]) -> None:
    """The household's history row of a case sent back or withdrawn (no change of status)."""
    household = locked.household
    event_record(
        household=household,
        kind=kind,
        actor=actor,
        effective_date=_today(),
        from_status=household.status,
        to_status=household.status,
        reason=reason[:500],
        data={"workflow": locked.pk, "procedure": locked.kind, **data},
    )


@transaction.atomic
def workflow_return(
    *,
    actor: User,
    workflow: Any,
    expected_step: str,
    opinion: str,
    to_step: str | None = None,
) -> Any:
    """The current step's owner sends the case back, with the reason, to an earlier step: a
    township or county reviewer names any earlier step (`to_step`, default the one the
    definition names), a village step only the one its definition names. Recorded in the case
    and in the household's history."""
    from households.models import HouseholdEvent, WorkflowStep

    workflows = _workflows()
    locked = _workflow_lock(workflow, expected_step)
    _require_step_owner(actor, locked)
    step = workflows.current_step(locked)
    targets = {target.key: target for target in workflows.return_targets(locked)}
    if not targets:
        raise ValidationError(_("该环节不能退回。"), code="cannot_return")
    to_step = to_step or step.returns_to or next(reversed(targets))
    target = targets.get(to_step)
    if target is None:
        raise ValidationError(
            {
                "to_step": [
                    ValidationError(
                        _("“%(step)s”不能退回到该环节。"),
                        code="bad_return_step",
                        params={"step": step.label},
                    )
                ]
            }
        )
    if not (opinion or "").strip():
        raise ValidationError(
            {"opinion": [ValidationError(_("退回须填写理由。"), code="required")]}
        )
    reason = str(_("退回至“%(target)s”：%(reason)s")) % {
        "target": target.label,
        "reason": opinion.strip(),
    }
    _step_record(locked, step, actor, WorkflowStep.Decision.RETURNED, reason, None, None, _today())
    locked.step = target.key
    locked.step_since = timezone.now()
    locked.version += 1
    locked.save(update_fields=["step", "step_since", "version"])
    _case_event(
        locked,
        kind=HouseholdEvent.Kind.CASE_RETURNED,
        actor=actor,
        reason=f"{workflows.procedure(locked.kind).label}：{reason}",
        data={"from_step": step.key, "to_step": target.key},
    )
    return locked


@transaction.atomic
def workflow_withdraw(
    *, actor: User, workflow: Any, reason: str, expected_step: str | None = None
) -> Any:
    """The case's owner (a village cadre of the household's village) withdraws it (撤回) with a
    reason, any time before the 公告. Recorded in the case and the household's history; the
    household's status is unchanged and a new case may be opened later."""
    from households.models import CaseWorkflow, HouseholdEvent, WorkflowStep

    workflows = _workflows()
    locked = (
        CaseWorkflow.objects.select_for_update()
        .select_related("household", "household__village")
        .get(pk=workflow.pk)
    )
    if locked.state == CaseWorkflow.State.DONE:
        raise ValidationError(_("该案件已公告办结，不能撤回。"), code="withdraw_after_announcement")
    if locked.state != CaseWorkflow.State.OPEN:
        raise ValidationError(_("该程序已办结或终止。"), code="workflow_closed")
    if expected_step and locked.step != expected_step:
        raise ValidationError(
            _("该案件已由他人办理到“%(step)s”环节，请刷新页面。"),
            code="workflow_moved",
            params={"step": workflows.current_step(locked).label},
        )
    if not workflows.can_withdraw(actor, locked):
        raise ValidationError(_("只有本村的村级录入员可以撤回该案件。"), code="not_case_owner")
    if not (reason or "").strip():
        raise ValidationError({"reason": [ValidationError(_("撤回须填写理由。"), code="required")]})
    step = workflows.current_step(locked)
    text = str(_("撤回：%(reason)s")) % {"reason": reason.strip()}
    _step_record(locked, step, actor, WorkflowStep.Decision.WITHDRAWN, text, None, None, _today())
    locked.notices.filter(is_open=True).update(is_open=False)
    locked.state = CaseWorkflow.State.WITHDRAWN
    locked.finished_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["state", "finished_at", "version"])
    _case_event(
        locked,
        kind=HouseholdEvent.Kind.CASE_WITHDRAWN,
        actor=actor,
        reason=f"{workflows.procedure(locked.kind).label}：{text}",
        data={"step": step.key},
    )
    return locked


@transaction.atomic
def notice_start(
    *,
    actor: User,
    workflow: Any,
    expected_step: str,
    start_date: datetime.date,
    days: int = 7,
    phone: str,
    place: str = "",
) -> Any:
    """Publish the 公示 of the current notice step: start date, length (≥ 7 days for
    identification and exit, natural days), the phone that takes objections. It starts after
    the step before it (and after any earlier 公示 ended), not before the case was opened, not
    in the future."""
    from households.models import PublicNotice, WorkflowStep

    workflows = _workflows()
    locked = _workflow_lock(workflow, expected_step)
    _require_step_owner(actor, locked)
    step = workflows.current_step(locked)
    if step.type != workflows.NOTICE:
        raise ValidationError(_("当前环节不是公示环节。"), code="not_a_notice")
    if locked.notices.filter(step=step.key, is_open=True).exists():
        raise ValidationError(_("公示已发布。"), code="notice_exists")
    today = _today()
    errors: dict[str, list[ValidationError]] = {}
    if start_date is None:
        errors["start_date"] = [ValidationError(_("请填写公示开始日期。"), code="required")]
    else:
        date_errors = _notice_date_errors(locked, step, start_date, days, today)
        if date_errors:
            errors["start_date"] = date_errors
    if not days or days < step.notice_days or days > 30:
        errors["days"] = [
            ValidationError(
                _("公示天数应在%(min)d到30天之间。"),
                code="bad_days",
                params={"min": step.notice_days},
            )
        ]
    if not (phone or "").strip():
        errors["phone"] = [ValidationError(_("请填写受理异议的电话。"), code="required")]
    _raise_if(errors)
    notice = PublicNotice(
        workflow=locked,
        step=step.key,
        start_date=start_date,
        days=days,
        phone=phone.strip(),
        place=place,
        created_by=actor,
    )
    notice.full_clean()
    notice.save()
    _step_record(
        locked,
        step,
        actor,
        WorkflowStep.Decision.NOTICE_STARTED,
        str(_("%(start)s起公示%(days)d天，至%(end)s"))
        % {"start": start_date.isoformat(), "days": days, "end": notice.end_date.isoformat()},
        None,
        None,
        # Dated when the notice went up, so the legal order reads the case's real dates.
        start_date,
    )
    return notice


@transaction.atomic
def notice_objection_record(
    *,
    actor: User,
    notice: Any,
    content: str,
    objector: str = "",
    received_on: datetime.date | None = None,
) -> Any:
    """An objection received during the 公示 sends the case back (with the objection as the
    reason) to the step the definition names. Any writer or reviewer in scope may record it."""
    from households.models import HouseholdEvent, NoticeObjection, PublicNotice, WorkflowStep

    workflows = _workflows()
    locked_notice = PublicNotice.objects.select_for_update().get(pk=notice.pk)
    locked = _workflow_lock(locked_notice.workflow, locked_notice.step)
    household = locked.household
    if not (roles.can_write_households(actor) or roles.can_review(actor)) or not (
        roles.region_in_scope(actor, household.village)
    ):
        raise ValidationError(_("您无权登记该公示的异议。"), code="not_allowed")
    today = _today()
    received_on = received_on or today
    errors: dict[str, list[ValidationError]] = {}
    if not locked_notice.is_open:
        raise ValidationError(_("公示已结束。"), code="notice_closed")
    if not (content or "").strip():
        errors["content"] = [ValidationError(_("请填写异议内容。"), code="required")]
    if received_on < locked_notice.start_date or received_on > min(today, locked_notice.end_date):
        errors["received_on"] = [
            ValidationError(
                _("异议须在公示期内（%(start)s至%(end)s）受理。"),
                code="outside_notice",
                params={
                    "start": locked_notice.start_date.isoformat(),
                    "end": locked_notice.end_date.isoformat(),
                },
            )
        ]
    _raise_if(errors)
    objection = NoticeObjection(
        notice=locked_notice,
        received_on=received_on,
        objector=objector or "",
        content=content.strip(),
        recorded_by=actor,
    )
    objection.full_clean()
    objection.save()
    locked_notice.is_open = False
    locked_notice.save(update_fields=["is_open"])
    step = workflows.current_step(locked)
    _step_record(
        locked,
        step,
        actor,
        WorkflowStep.Decision.OBJECTION,
        str(_("公示异议：%(content)s")) % {"content": objection.content},
        None,
        None,
        received_on,
    )
    locked.step = step.objection_returns_to
    locked.step_since = timezone.now()
    locked.version += 1
    locked.save(update_fields=["step", "step_since", "version"])
    _case_event(
        locked,
        kind=HouseholdEvent.Kind.CASE_RETURNED,
        actor=actor,
        reason=str(_("%(procedure)s：公示异议，退回至“%(target)s”：%(content)s"))
        % {
            "procedure": workflows.procedure(locked.kind).label,
            "target": workflows.procedure(locked.kind).step(step.objection_returns_to).label,
            "content": objection.content,
        },
        data={"from_step": step.key, "to_step": step.objection_returns_to},
    )
    return objection


# --- data quality: explanations (households.quality) -----------------------------------------


@transaction.atomic
def problem_explain(*, actor: User, problem: Any, explanation: str) -> Any:
    """The owning village explains a problem that is not an error (e.g. a real 50-亩 farm)."""
    from households.models import DataProblem

    locked = DataProblem.objects.select_for_update().select_related("village").get(pk=problem.pk)
    if actor.role != User.Role.VILLAGE_CADRE or not roles.region_in_scope(actor, locked.village):
        raise ValidationError(_("只有本村的村级录入员可以说明问题数据。"), code="not_allowed")
    text = (explanation or "").strip()
    if not text:
        raise ValidationError(
            {"explanation": [ValidationError(_("请填写情况说明。"), code="required")]}
        )
    if len(text) > 500:
        raise ValidationError(
            {"explanation": [ValidationError(_("情况说明不能超过500字。"), code="too_long")]}
        )
    if locked.state not in (DataProblem.State.OPEN,):
        raise ValidationError(_("该问题当前不能说明。"), code="bad_state")
    locked.state = DataProblem.State.EXPLAINED
    locked.explanation = text
    locked.explained_by = actor
    locked.explained_at = timezone.now()
    locked.save(update_fields=["state", "explanation", "explained_by", "explained_at"])
    return locked


@transaction.atomic
def problem_review(*, actor: User, problem: Any, accept: bool, note: str = "") -> Any:
    """The township accepts an explanation (the problem is no longer counted) or sends it back."""
    from households.models import DataProblem

    locked = DataProblem.objects.select_for_update().select_related("village").get(pk=problem.pk)
    if actor.role != User.Role.TOWNSHIP_REVIEWER or not roles.region_in_scope(
        actor, locked.village
    ):
        raise ValidationError(_("只有乡镇审核员可以审核情况说明。"), code="not_allowed")
    if locked.state != DataProblem.State.EXPLAINED:
        raise ValidationError(_("该问题没有待审核的说明。"), code="bad_state")
    if not accept and not (note or "").strip():
        raise ValidationError({"note": [ValidationError(_("不认可须填写理由。"), code="required")]})
    locked.state = DataProblem.State.ACCEPTED if accept else DataProblem.State.OPEN
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.review_note = (note or "")[:255]
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
    return locked


# --- batches: one meeting, one 公示, one review for many households (issue 13) ---------------
#
# A batch action calls the per-household services above for each member, inside one
# transaction: every member's case keeps its own steps and events, the legal-order rules run for
# each, and when any member is refused nothing is written and the error names each refused
# household and why.


def _batch_lock(batch: Any) -> Any:
    from households.models import CaseBatch

    locked = CaseBatch.objects.select_for_update().select_related("village").get(pk=batch.pk)
    if locked.state != CaseBatch.State.OPEN:
        raise ValidationError(_("该批次已完结。"), code="batch_closed")
    return locked


def _require_batch_owner(actor: User, village: Region) -> None:
    from povertyapp.models import User as UserModel

    if actor.role != UserModel.Role.VILLAGE_CADRE or not roles.region_in_scope(actor, village):
        raise ValidationError(_("只有本村的村级录入员可以办理该批次。"), code="not_batch_owner")


def _batch_event(batch: Any, *, action: str, actor: User, summary: str, **data: Any) -> None:
    from households.models import CaseBatchEvent

    CaseBatchEvent.objects.create(
        batch=batch, action=action, actor=actor, summary=summary[:500], data=data
    )


def _refusal(household: Household, error: ValidationError) -> str:
    return str(_("户编号%(number)s：%(reasons)s")) % {
        "number": household.number,
        "reasons": "；".join(error.messages),
    }


def _raise_refusals(refusals: list[str]) -> None:
    if refusals:
        raise ValidationError(
            [
                ValidationError(
                    _("以下农户未通过，本次批量办理未保存任何记录："), code="batch_refused"
                )
            ]
            + [ValidationError(refusal, code="batch_refused") for refusal in refusals]
        )


def case_batch_members(batch: Any, step: str | None = None) -> list[Any]:
    """The batch's open cases (at `step` when given), by 户编号."""
    from households.models import CaseWorkflow

    cases = batch.cases.filter(state=CaseWorkflow.State.OPEN)
    if step is not None:
        cases = cases.filter(step=step)
    return list(
        cases.select_related("household", "household__village").order_by("household__number")
    )


def _batch_settle(batch: Any) -> None:
    """A batch whose members are all finished (announced, withdrawn) is closed."""
    from households.models import CaseBatch, CaseWorkflow

    if not batch.cases.filter(state=CaseWorkflow.State.OPEN).exists():
        batch.state = CaseBatch.State.CLOSED
        batch.save(update_fields=["state"])


@transaction.atomic
def case_batch_create(
    *,
    actor: User,
    village: Region,
    kind: str,
    name: str = "",
    workflows: Sequence[Any] = (),
    households: Sequence[Household] = (),
    opened_on: datetime.date | None = None,
    opinion: str = "",
) -> Any:
    """A village opens a batch of one procedure (识别, 退出 …) with open cases of its households
    and/or new cases started for chosen households (`workflow_start` for each)."""
    from households.models import CaseBatch

    definitions = _workflows().PROCEDURES
    if kind not in definitions:
        raise ValidationError({"kind": [ValidationError(_("没有该程序。"), code="bad_kind")]})
    _require_batch_owner(actor, village)
    if not workflows and not households:
        raise ValidationError(_("请至少选择一户。"), code="batch_empty")
    label = definitions[kind].label
    batch = CaseBatch(
        village=village,
        kind=kind,
        name=(name or "").strip() or f"{village.name}{label}{_today().strftime('%Y%m%d')}",
        created_by=actor,
    )
    batch.full_clean()
    batch.save()
    _batch_event(batch, action="created", actor=actor, summary=str(_("创建批次")))
    case_batch_add(
        actor=actor,
        batch=batch,
        workflows=workflows,
        households=households,
        opened_on=opened_on,
        opinion=opinion,
    )
    return batch


@transaction.atomic
def case_batch_add(
    *,
    actor: User,
    batch: Any,
    workflows: Sequence[Any] = (),
    households: Sequence[Household] = (),
    opened_on: datetime.date | None = None,
    opinion: str = "",
) -> list[Any]:
    """Add open cases of the village's households (same procedure, in no other open batch, all at
    one step) and start cases for chosen households. All or nothing."""
    from households.models import CaseBatch, CaseWorkflow

    locked = _batch_lock(batch)
    _require_batch_owner(actor, locked.village)
    refusals: list[str] = []
    added: list[Any] = []
    ids = [getattr(workflow, "pk", workflow) for workflow in workflows]
    existing = {
        case.pk: case
        for case in CaseWorkflow.objects.select_for_update(of=("self",))
        .select_related("household", "batch")
        .filter(pk__in=ids)
    }
    for workflow_id in ids:
        case = existing.get(workflow_id)
        if case is None:
            raise ValidationError(_("未找到所选案件。"), code="workflow_missing")
        if case.household.village_id != locked.village_id:
            refusals.append(
                str(_("户编号%(number)s不属于本村。")) % {"number": case.household.number}
            )
        elif case.kind != locked.kind:
            refusals.append(
                str(_("户编号%(number)s的程序不是“%(kind)s”。"))
                % {
                    "number": case.household.number,
                    "kind": _workflows().procedure(locked.kind).label,
                }
            )
        elif case.state != CaseWorkflow.State.OPEN:
            refusals.append(
                str(_("户编号%(number)s的案件已办结或终止。")) % {"number": case.household.number}
            )
        elif (
            case.batch is not None
            and case.batch_id != locked.pk
            and case.batch.state == CaseBatch.State.OPEN
        ):
            refusals.append(
                str(_("户编号%(number)s已在批次“%(batch)s”中。"))
                % {"number": case.household.number, "batch": case.batch.name}
            )
        else:
            added.append(case)
    for household in households:
        try:
            added.append(
                workflow_start(
                    actor=actor,
                    household=household,
                    kind=locked.kind,
                    opinion=opinion,
                    effective_date=opened_on,
                )
            )
        except ValidationError as error:
            refusals.append(_refusal(household, error))
    steps = {case.step for case in added}
    if len(steps) > 1:
        definition = _workflows().procedure(locked.kind)
        refusals.append(
            str(_("同一次加入批次的案件须处于同一环节（所选案件处于：%(steps)s）。"))
            % {"steps": "、".join(str(definition.step(key).label) for key in sorted(steps))}
        )
    _raise_refusals(refusals)
    CaseWorkflow.objects.filter(pk__in=[case.pk for case in added]).update(batch=locked)
    _batch_event(
        locked,
        action="added",
        actor=actor,
        summary=str(_("加入%(count)d户")) % {"count": len(added)},
        workflows=[case.pk for case in added],
        households=[case.household.number for case in added],
    )
    return added


def _meeting_step(kind: str) -> Any:
    """The procedure's 民主评议 step: the village step that records a meeting's attendance."""
    for step in _workflows().procedure(kind).steps:
        if step.needs_attendance:
            return step
    raise ValidationError(_("该程序没有民主评议环节。"), code="no_meeting_step")


@transaction.atomic
def case_batch_record_meeting(
    *,
    actor: User,
    batch: Any,
    meeting_date: datetime.date | None,
    attendance: int | None,
    minutes: Any,
    opinion: str,
    exceptions: Mapping[int, str] | None = None,
) -> Any:
    """One 民主评议 meeting decides every member at that step: each passed case completes the
    step (dated the meeting, with its attendance and the minutes as evidence); a household the
    meeting did not pass (`exceptions`: workflow id → reason) is withdrawn with the reason."""
    locked = _batch_lock(batch)
    _require_batch_owner(actor, locked.village)
    step = _meeting_step(locked.kind)
    members = case_batch_members(locked, step.key)
    exceptions = dict(exceptions or {})
    errors: dict[str, list[ValidationError]] = {}
    if not members:
        raise ValidationError(
            _("批次中没有处于“%(step)s”环节的农户。"),
            code="batch_no_members",
            params={"step": step.label},
        )
    if meeting_date is None:
        errors["meeting_date"] = [ValidationError(_("请填写评议会议日期。"), code="required")]
    if not attendance:
        errors["attendance"] = [ValidationError(_("请填写参会人数。"), code="required")]
    if not minutes:
        errors["minutes"] = [
            ValidationError(_("请上传会议记录（扫描件或照片）。"), code="required")
        ]
    else:
        try:
            uploads.check_evidence(minutes, accept=uploads.IMAGES_AND_PDF)
        except ValidationError as error:
            errors["minutes"] = error.error_list
    if not (opinion or "").strip():
        errors["opinion"] = [ValidationError(_("请填写评议意见。"), code="required")]
    _exception_errors(members, exceptions, errors)
    _raise_if(errors)
    assert meeting_date is not None
    locked.meeting_date = meeting_date
    locked.attendance = attendance
    locked.minutes = minutes
    locked.full_clean()
    locked.save(update_fields=["meeting_date", "attendance", "minutes"])
    refusals: list[str] = []
    passed, excepted = [], []
    # The minutes are stored before the members' steps (each record points at them): when a
    # member is refused the transaction rolls back, and the stored file goes with it.
    stored = locked.minutes.name
    for case in members:
        try:
            if case.pk in exceptions:
                workflow_withdraw(
                    actor=actor,
                    workflow=case,
                    reason=str(_("民主评议未通过：%(reason)s")) % {"reason": exceptions[case.pk]},
                    expected_step=step.key,
                )
                excepted.append(case.household.number)
            else:
                workflow_step_complete(
                    actor=actor,
                    workflow=case,
                    expected_step=step.key,
                    opinion=opinion,
                    evidence=locked.minutes,
                    attendance=attendance,
                    acted_on=meeting_date,
                )
                passed.append(case.household.number)
        except ValidationError as error:
            refusals.append(_refusal(case.household, error))
    if refusals:
        locked.minutes.storage.delete(stored)
    _raise_refusals(refusals)
    _batch_event(
        locked,
        action="meeting",
        actor=actor,
        summary=str(_("%(date)s召开民主评议会议，%(passed)d户通过，%(excepted)d户未通过"))
        % {"date": meeting_date.isoformat(), "passed": len(passed), "excepted": len(excepted)},
        passed=passed,
        excepted=excepted,
        attendance=attendance,
    )
    _batch_settle(locked)
    return locked


def _exception_errors(
    members: list[Any],
    exceptions: Mapping[int, Any],
    errors: dict[str, list[ValidationError]],
) -> None:
    unknown = set(exceptions) - {case.pk for case in members}
    if unknown:
        errors.setdefault("exceptions", []).append(
            ValidationError(_("例外的农户不在本环节的批次名单中。"), code="bad_exception")
        )
    numbers = {case.pk: case.household.number for case in members}
    for workflow_id, reason in exceptions.items():
        if workflow_id in numbers and not str(reason or "").strip():
            errors.setdefault("exceptions", []).append(
                ValidationError(
                    _("户编号%(number)s：例外须填写理由。"),
                    code="required",
                    params={"number": numbers[workflow_id]},
                )
            )


@transaction.atomic
def case_batch_start_notice(
    *,
    actor: User,
    batch: Any,
    step: str,
    start_date: datetime.date | None,
    days: int = 7,
    phone: str,
    place: str = "",
) -> Any:
    """One 公示 listing every member at the notice step: a notice per case (`notice_start`, so
    the dates obey each case's legal order and an objection sends back only its household), all
    with the same start, length, phone and place; printed as one list."""
    workflows = _workflows()
    locked = _batch_lock(batch)
    definition = workflows.procedure(locked.kind)
    try:
        notice_step = definition.step(step)
    except KeyError:
        raise ValidationError(_("没有该环节。"), code="bad_step") from None
    if notice_step.type != workflows.NOTICE:
        raise ValidationError(_("当前环节不是公示环节。"), code="not_a_notice")
    members = [
        case
        for case in case_batch_members(locked, step)
        if not case.notices.filter(step=step, is_open=True).exists()
    ]
    if not members:
        raise ValidationError(
            _("批次中没有待公示的“%(step)s”农户。"),
            code="batch_no_members",
            params={"step": notice_step.label},
        )
    refusals: list[str] = []
    for case in members:
        try:
            notice_start(
                actor=actor,
                workflow=case,
                expected_step=step,
                start_date=start_date,  # type: ignore[arg-type]  # notice_start refuses None with its own message
                days=days,
                phone=phone,
                place=place,
            )
        except ValidationError as error:
            refusals.append(_refusal(case.household, error))
    _raise_refusals(refusals)
    locked.notice_step = step
    locked.notice_start_date = start_date
    locked.save(update_fields=["notice_step", "notice_start_date"])
    assert start_date is not None
    _batch_event(
        locked,
        action="notice",
        actor=actor,
        summary=str(_("%(start)s起%(step)s%(days)d天，%(count)d户"))
        % {
            "start": start_date.isoformat(),
            "step": notice_step.label,
            "days": days,
            "count": len(members),
        },
        step=step,
        households=[case.household.number for case in members],
    )
    return locked


@transaction.atomic
def case_batch_complete_step(
    *,
    actor: User,
    batch: Any,
    step: str,
    opinion: str = "",
    acted_on: datetime.date | None = None,
    exceptions: Mapping[int, str] | None = None,
    return_to: Mapping[int, str] | None = None,
) -> Any:
    """Complete `step` for every member standing at it, in one action (a township or county
    review, a verification, the end of a 公示): each case through `workflow_step_complete`;
    each excepted household (`exceptions`: workflow id → reason) is sent back alone through
    `workflow_return`, to `return_to[id]` (an earlier step; default the one the procedure names).
    All or nothing."""
    workflows = _workflows()
    locked = _batch_lock(batch)
    definition = workflows.procedure(locked.kind)
    try:
        current = definition.step(step)
    except KeyError:
        raise ValidationError(_("没有该环节。"), code="bad_step") from None
    members = case_batch_members(locked, step)
    if not members:
        raise ValidationError(
            _("批次中没有处于“%(step)s”环节的农户。"),
            code="batch_no_members",
            params={"step": current.label},
        )
    exceptions = dict(exceptions or {})
    return_to = dict(return_to or {})
    errors: dict[str, list[ValidationError]] = {}
    _exception_errors(members, exceptions, errors)
    needs_opinion = current.type != workflows.NOTICE and len(exceptions) < len(members)
    if needs_opinion and not (opinion or "").strip():
        errors["opinion"] = [ValidationError(_("请填写办理意见。"), code="required")]
    _raise_if(errors)
    refusals: list[str] = []
    passed, returned = [], []
    for case in members:
        try:
            if case.pk in exceptions:
                workflow_return(
                    actor=actor,
                    workflow=case,
                    expected_step=step,
                    opinion=exceptions[case.pk],
                    to_step=return_to.get(case.pk) or None,
                )
                returned.append(case.household.number)
            else:
                workflow_step_complete(
                    actor=actor,
                    workflow=case,
                    expected_step=step,
                    opinion=opinion,
                    acted_on=acted_on,
                )
                passed.append(case.household.number)
        except ValidationError as error:
            refusals.append(_refusal(case.household, error))
    _raise_refusals(refusals)
    _batch_event(
        locked,
        action="step",
        actor=actor,
        summary=str(_("%(step)s：%(passed)d户通过，%(returned)d户退回"))
        % {"step": current.label, "passed": len(passed), "returned": len(returned)},
        step=step,
        passed=passed,
        returned=returned,
    )
    _batch_settle(locked)
    return locked
