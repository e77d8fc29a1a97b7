"""Village-year data (村年度信息) and resident teams (驻村工作队) imports: a workbook per year of
the villages' populations, 贫困村 status and condition class, and the teams' members with their
days resident. Validate the whole file first (row errors, nothing written), then one
transaction; the natural keys (village and year; village, year and name) make a re-import of
the same file a no-op."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from households.onboarding.tables import OnboardingReport, Row, SheetSpec, Table, read_tables
from povertyapp import audit, yearlock
from povertyapp.ledgers.layout import BOOLEAN, INTEGER, Column
from povertyapp.models import Region, ResidentTeamMember, User, VillageYear

VILLAGE_YEAR_SHEET = SheetSpec(
    name="村年度信息",
    columns=(
        Column("village_code", "村代码", width=18, required=True),
        Column("village_name", "村名称", width=16),
        Column("year", "年度", INTEGER, width=8),
        Column("registered_population", "户籍人口", INTEGER, width=10),
        Column("registered_rural_population", "户籍农业人口", INTEGER, width=12, required=True),
        Column("total_households", "总户数", INTEGER, width=10, required=True),
        Column("is_poor_village", "贫困村", BOOLEAN, width=8),
        Column("exit_year", "出列年度", INTEGER, width=10),
        Column("is_deep_poverty", "深度贫困村", BOOLEAN, width=10),
        Column("condition", "村情分类", width=10),
        Column("first_secretary", "第一书记", width=12),
        Column("first_secretary_phone", "第一书记电话", width=14),
    ),
    required=("village_code", "registered_rural_population", "total_households"),
    aliases={
        "统计用区划代码": "village_code",
        "行政村代码": "village_code",
        "好/中/差": "condition",
        "好中差": "condition",
        "联系电话": "first_secretary_phone",
    },
)
RESIDENT_TEAM_SHEET = SheetSpec(
    name="驻村工作队",
    columns=(
        Column("village_code", "村代码", width=18, required=True),
        Column("village_name", "村名称", width=16),
        Column("year", "年度", INTEGER, width=8, required=True),
        Column("name", "姓名", width=10, required=True),
        Column("post", "职务", width=10, required=True),
        Column("unit", "派出单位", width=24),
        Column("phone", "联系电话", width=14),
        Column("days_resident", "驻村天数", INTEGER, width=10),
    ),
    required=("village_code", "year", "name", "post"),
    aliases={"统计用区划代码": "village_code", "行政村代码": "village_code"},
)

PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _villages(table: Table, *, actor: User | None, report: OnboardingReport) -> dict[int, Region]:
    """The village of each row (by row number); a row whose village is unknown, not a village,
    merged away or outside the actor's scope gets its error."""
    codes = {_text(row.values.get("village_code")) for row in table.rows}
    found = {region.code: region for region in Region.objects.filter(code__in=codes)}
    villages: dict[int, Region] = {}
    for row in table.rows:
        code = _text(row.values.get("village_code"))
        region = found.get(code)
        if not code:
            message = _("请填写村代码。")
        elif region is None or region.level != Region.Level.VILLAGE:
            message = _("行政村%(code)s在系统中不存在，请先导入行政区划。") % {"code": code}
        elif region.ended_on is not None:
            message = _("行政村%(code)s已撤并，不能再填报。") % {"code": code}
        elif actor is not None and not (
            actor.region is not None and region.path.startswith(actor.region.path)
        ):
            message = _("行政村%(code)s不在您的管辖范围内。") % {"code": code}
        else:
            villages[row.number] = region
            continue
        report.errors.append(table.cell_error(row, "village_code", message))
    return villages


def _model_errors(table: Table, row: Row, error: ValidationError, report: OnboardingReport) -> None:
    keys = {column.key for column in table.spec.columns}
    for name, messages in error.message_dict.items():
        key = name if name in keys else "village_code"
        for message in messages:
            report.errors.append(table.cell_error(row, key, message))


def _apply(
    instance: Any, values: dict[str, Any], report: OnboardingReport, *, created: bool
) -> bool:
    """Set the given values; count created/updated/unchanged. Returns whether to save."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    if created:
        report.created += 1
    elif changed:
        report.updated += 1
    else:
        report.unchanged += 1
    return created or changed


def import_village_years(
    *, actor: User | None, path: str, year: int, dry_run: bool
) -> OnboardingReport:
    """The 村年度信息 of `year` from a workbook (or CSV): one row per village."""
    tables, cell_errors = read_tables(path, (VILLAGE_YEAR_SHEET,))
    table = tables[VILLAGE_YEAR_SHEET.name]
    report = OnboardingReport(dry_run=dry_run, errors=list(cell_errors))
    villages = _villages(table, actor=actor, report=report)
    existing = {
        item.village_id: item
        for item in VillageYear.objects.filter(year=year, village__in=list(villages.values()))
    }
    seen: dict[int, int] = {}
    pending: list[tuple[VillageYear, bool]] = []
    # A row that writes into a signed year is a row error (an unchanged one is no write).
    locks = yearlock.LockIndex()
    for row in table.rows:
        village = villages.get(row.number)
        if village is None or row.unreadable:
            continue
        values = row.values
        if village.pk in seen:
            report.errors.append(
                table.cell_error(
                    row,
                    "village_code",
                    _("该村在第%(row)d行已出现。") % {"row": seen[village.pk]},
                )
            )
            continue
        seen[village.pk] = row.number
        if values.get("year") not in (None, year):
            report.errors.append(
                table.cell_error(
                    row, "year", _("年度应为%(year)d（本次导入的年度）。") % {"year": year}
                )
            )
            continue
        condition = _text(values.get("condition"))
        if condition and condition not in VillageYear.Condition.values:
            report.errors.append(
                table.cell_error(row, "condition", _("村情分类应填“好”“中”或“差”。"))
            )
            continue
        phone = _text(values.get("first_secretary_phone"))
        if phone and not PHONE.match(phone):
            report.errors.append(
                table.cell_error(row, "first_secretary_phone", _("联系电话格式不正确。"))
            )
            continue
        population = values.get("registered_population")
        rural = values.get("registered_rural_population")
        if population is not None and rural is not None and rural > population:
            report.errors.append(
                table.cell_error(
                    row, "registered_rural_population", _("户籍农业人口不能多于户籍人口。")
                )
            )
            continue
        given = {
            key: values[key]
            for key in (
                "registered_population",
                "registered_rural_population",
                "total_households",
                "is_poor_village",
                "exit_year",
                "is_deep_poverty",
            )
            if values.get(key) is not None
        }
        for key in ("first_secretary",):
            if _text(values.get(key)):
                given[key] = _text(values.get(key))
        if phone:
            given["first_secretary_phone"] = phone
        if condition:
            given["condition"] = condition
        item = existing.get(village.pk)
        created = item is None
        if item is None:
            item = VillageYear(village=village, year=year)
        if not _apply(item, given, report, created=created):
            continue
        if (locked := locks.error(village.path, year)) is not None:
            report.errors.append(table.cell_error(row, "village_code", locked))
            continue
        if item.exit_year is not None and not item.is_poor_village:
            report.errors.append(table.cell_error(row, "exit_year", _("只有贫困村才有出列年度。")))
            continue
        if item.exit_year is not None and not 2010 <= item.exit_year <= 2100:
            report.errors.append(table.cell_error(row, "exit_year", _("出列年度不正确。")))
            continue
        try:
            item.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            _model_errors(table, row, error, report)
            continue
        pending.append((item, created))
    return _finish(report, pending, actor=actor, target="povertyapp.village_years", year=year)


def _finish(
    report: OnboardingReport,
    pending: list[tuple[Any, bool]],
    *,
    actor: User | None,
    target: str,
    year: int | None,
) -> OnboardingReport:
    if report.errors:
        report.created = report.updated = report.unchanged = 0
        return report
    if report.dry_run:
        return report
    with transaction.atomic():
        for item, _created in pending:
            item.save()
        report.written = True
        audit.record(
            "import",
            user=actor,
            username="manage.py" if actor is None else "",
            target=target,
            detail={
                "year": year,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report


def import_resident_teams(*, actor: User | None, path: str, dry_run: bool) -> OnboardingReport:
    """The 驻村工作队 members from a workbook (or CSV): one row per member and year, keyed by
    village, year and name."""
    tables, cell_errors = read_tables(path, (RESIDENT_TEAM_SHEET,))
    table = tables[RESIDENT_TEAM_SHEET.name]
    report = OnboardingReport(dry_run=dry_run, errors=list(cell_errors))
    villages = _villages(table, actor=actor, report=report)
    years = {
        (item.village_id, item.year): item
        for item in VillageYear.objects.filter(village__in=list(villages.values()))
    }
    members = {
        (member.village_year_id, member.name): member
        for member in ResidentTeamMember.objects.filter(
            village_year__in=[item.pk for item in years.values()]
        )
    }
    seen: dict[tuple[int, int, str], int] = {}
    pending: list[tuple[ResidentTeamMember, bool]] = []
    locks = yearlock.LockIndex()
    for row in table.rows:
        village = villages.get(row.number)
        if village is None or row.unreadable:
            continue
        values = row.values
        year = values.get("year")
        name = _text(values.get("name"))
        post = _text(values.get("post"))
        if year is None:
            report.errors.append(table.cell_error(row, "year", _("请填写年度。")))
            continue
        village_year = years.get((village.pk, year))
        if village_year is None:
            report.errors.append(
                table.cell_error(
                    row,
                    "year",
                    _("%(village)s%(year)d年的村年度信息尚未导入，请先导入村年度信息。")
                    % {"village": village.name, "year": year},
                )
            )
            continue
        if not name:
            report.errors.append(table.cell_error(row, "name", _("请填写姓名。")))
            continue
        key = (village.pk, year, name)
        if key in seen:
            report.errors.append(
                table.cell_error(
                    row,
                    "name",
                    _("同一村同一年度的%(name)s在第%(row)d行已出现。")
                    % {"name": name, "row": seen[key]},
                )
            )
            continue
        seen[key] = row.number
        if post not in ResidentTeamMember.Post.values:
            report.errors.append(
                table.cell_error(row, "post", _("职务应为“第一书记”“队长”或“队员”。"))
            )
            continue
        phone = _text(values.get("phone"))
        if phone and not PHONE.match(phone):
            report.errors.append(table.cell_error(row, "phone", _("联系电话格式不正确。")))
            continue
        days = values.get("days_resident")
        if days is not None and days > 366:
            report.errors.append(
                table.cell_error(row, "days_resident", _("驻村天数不能超过366天。"))
            )
            continue
        given: dict[str, Any] = {"post": post}
        if _text(values.get("unit")):
            given["unit"] = _text(values.get("unit"))
        if phone:
            given["phone"] = phone
        if days is not None:
            given["days_resident"] = days
        member = members.get((village_year.pk, name))
        created = member is None
        if member is None:
            member = ResidentTeamMember(village_year=village_year, name=name)
        if not _apply(member, given, report, created=created):
            continue
        if (locked := locks.error(village.path, year)) is not None:
            report.errors.append(table.cell_error(row, "year", locked))
            continue
        try:
            member.full_clean()
        except ValidationError as error:
            _model_errors(table, row, error, report)
            continue
        pending.append((member, created))
    return _finish(report, pending, actor=actor, target="povertyapp.resident_teams", year=None)
