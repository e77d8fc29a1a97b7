"""The region tree import (统计用区划代码和城乡划分代码): a county's or a province's tree from the
codes as the statistics office publishes them (CSV in UTF-8 or GBK, or xlsx).

The main sheet, one row per unit: 统计用区划代码 (12 digits; a village group 15), 名称,
城乡分类代码, 层级 (optional: derived from the code), 原区划代码 (a re-coded unit's previous
code), 并入区划代码 (this unit was merged into that one). An optional sheet 撤并 maps
原区划代码 → 并入区划代码 as well.

Rules: the whole file is validated first against the tree as it stands plus the file itself
(bad code, unknown parent, level mismatch, duplicate code: row errors, nothing written); then
one transaction. A region keeps its id: a rename or a re-coding keeps the old name and code in
`RegionName`; a merged-away unit is ended (`ended_on`, `merged_into`), never deleted, and its
households, village groups and sub-units move to the unit it joined. Paths follow every move.
A re-import of the same file changes nothing ("0 changed").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from households import counties, hooks
from households.imports.report import CellError
from households.models import DataProblem, Household
from households.onboarding.tables import OnboardingReport, Row, SheetSpec, Table, read_tables
from povertyapp import audit, yearlock
from povertyapp.ledgers.layout import DATE, Column
from povertyapp.models import Region, RegionName, User, VillageYear, region_code_validator

Level = Region.Level

REGION_SHEET = SheetSpec(
    name="行政区划",
    columns=(
        Column("code", "统计用区划代码", width=18, required=True),
        Column("name", "名称", width=24, required=True),
        Column("urban_rural", "城乡分类代码", width=12),
        Column("level", "层级", width=10),
        Column("former_code", "原区划代码", width=18),
        Column("merged_into", "并入区划代码", width=18),
    ),
    required=("code", "name"),
    aliases={"区划代码": "code", "代码": "code", "区划名称": "name", "城乡分类": "urban_rural"},
)
MERGE_SHEET = SheetSpec(
    name="撤并",
    columns=(
        Column("former_code", "原区划代码", width=18, required=True),
        Column("former_name", "原名称", width=24),
        Column("merged_into", "并入区划代码", width=18, required=True),
        Column("date", "撤并日期", DATE, width=12),
    ),
    required=("former_code", "merged_into"),
    optional=True,
)

LEVEL_LABELS: dict[str, str] = {
    "省": Level.PROVINCE,
    "1": Level.PROVINCE,
    "市": Level.CITY,
    "地": Level.CITY,
    "2": Level.CITY,
    "县": Level.COUNTY,
    "区": Level.COUNTY,
    "3": Level.COUNTY,
    "乡镇": Level.TOWNSHIP,
    "乡": Level.TOWNSHIP,
    "镇": Level.TOWNSHIP,
    "街道": Level.TOWNSHIP,
    "4": Level.TOWNSHIP,
    "村": Level.VILLAGE,
    "行政村": Level.VILLAGE,
    "社区": Level.VILLAGE,
    "居委会": Level.VILLAGE,
    "5": Level.VILLAGE,
    "村民小组": Level.GROUP,
    "组": Level.GROUP,
    "自然村": Level.GROUP,
    "6": Level.GROUP,
    **{str(level): str(level) for level in Level},
}
DEPTH: dict[str, int] = {
    Level.PROVINCE: 0,
    Level.CITY: 1,
    Level.COUNTY: 2,
    Level.TOWNSHIP: 3,
    Level.VILLAGE: 4,
    Level.GROUP: 5,
}


def level_of(code: str) -> str:
    """The level a statistical division code names: its trailing zeros (2+2+2+3+3 digits;
    a village group extends the village's 12 digits by 3)."""
    if len(code) == 15:
        return Level.GROUP
    if code[2:] == "0" * 10:
        return Level.PROVINCE
    if code[4:] == "0" * 8:
        return Level.CITY
    if code[6:] == "0" * 6:
        return Level.COUNTY
    if code[9:] == "000":
        return Level.TOWNSHIP
    return Level.VILLAGE


def parent_codes(code: str, level: str) -> list[str]:
    """The codes the parent may have, the nearest first (a county directly under its province,
    省直辖县, when no city holds it)."""
    candidates: dict[str, list[str]] = {
        Level.PROVINCE: [],
        Level.CITY: [code[:2] + "0" * 10],
        Level.COUNTY: [code[:4] + "0" * 8, code[:2] + "0" * 10],
        Level.TOWNSHIP: [code[:6] + "0" * 6],
        Level.VILLAGE: [code[:9] + "000"],
        Level.GROUP: [code[:12]],
    }
    return candidates[level]


@dataclass
class Planned:
    """A unit of the main sheet, validated: what the tree will hold."""

    row: Row
    code: str
    name: str
    level: str
    urban_rural: str
    parent_code: str | None
    region: Region | None  # the existing region it updates (by code, or by its former code)


@dataclass
class Merge:
    row: Row
    table: Table
    former: Region
    into_code: str
    date: datetime.date


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _in_scope(actor: User | None, path: str) -> bool:
    if actor is None:
        return True  # the command, run by the operator, loads any tree
    return actor.region is not None and path.startswith(actor.region.path)


def _validate(
    tables: dict[str, Table], *, actor: User | None, report: OnboardingReport
) -> tuple[list[Planned], list[Merge]]:
    table = tables[REGION_SHEET.name]
    errors = report.errors
    existing = {region.code: region for region in Region.objects.all()}
    planned: dict[str, Planned] = {}
    merges: list[Merge] = []
    claimed: dict[int, str] = {}  # region id → the code it takes in this file
    today = timezone.localdate()

    def error(tab: Table, row: Row, key: str, message: str) -> None:
        errors.append(tab.cell_error(row, key, message))

    def code_error(code: str) -> str | None:
        try:
            region_code_validator(code)
        except Exception:
            return _("统计用区划代码应为12位数字（村民小组为15位）。")
        return None

    merge_rows: list[tuple[Table, Row, str, str, datetime.date]] = []
    for row in table.rows:
        code = _text(row.values.get("code"))
        name = _text(row.values.get("name"))
        message = code_error(code)
        if message:
            error(table, row, "code", message)
            continue
        into = _text(row.values.get("merged_into"))
        if into:
            merge_rows.append((table, row, code, into, today))
            continue
        if not name:
            error(table, row, "name", _("请填写名称。"))
            continue
        if len(name) > 64:
            error(table, row, "name", _("名称不能超过64个字。"))
            continue
        if code in planned:
            error(
                table,
                row,
                "code",
                _("统计用区划代码%(code)s在第%(row)d行已出现。")
                % {"code": code, "row": planned[code].row.number},
            )
            continue
        level = level_of(code)
        given = _text(row.values.get("level"))
        if given:
            stated = LEVEL_LABELS.get(given)
            if stated is None:
                error(table, row, "level", _("层级应为省、市、县、乡镇、行政村或村民小组。"))
                continue
            if stated != level:
                error(
                    table,
                    row,
                    "level",
                    _("层级“%(given)s”与区划代码不符：代码%(code)s是%(level)s级。")
                    % {"given": given, "code": code, "level": Level(level).label},
                )
                continue
        urban_rural = _text(row.values.get("urban_rural"))
        if urban_rural and urban_rural not in Region.UrbanRural.values:
            error(
                table,
                row,
                "urban_rural",
                _("城乡分类代码应为%(codes)s之一。")
                % {"codes": _("、").join(Region.UrbanRural.values)},
            )
            continue
        region = existing.get(code)
        former_code = _text(row.values.get("former_code"))
        if former_code and former_code != code:
            former = existing.get(former_code)
            if region is None and former is None:
                error(
                    table,
                    row,
                    "former_code",
                    _("原区划代码%(code)s在系统中不存在。") % {"code": former_code},
                )
                continue
            if region is None:
                region = former
            elif former is not None and former.pk != region.pk:
                error(
                    table,
                    row,
                    "code",
                    _("新代码%(code)s已被另一区划“%(name)s”使用。")
                    % {"code": code, "name": region.name},
                )
                continue
        if region is not None:
            if region.ended_on is not None:
                error(
                    table,
                    row,
                    "code",
                    _("区划%(code)s已撤并，不能再导入。") % {"code": region.code},
                )
                continue
            if region.level != level:
                error(
                    table,
                    row,
                    "code",
                    _("区划%(code)s在系统中是%(level)s级，与代码不符。")
                    % {"code": region.code, "level": region.get_level_display()},
                )
                continue
            if region.pk in claimed:
                error(
                    table,
                    row,
                    "former_code",
                    _("该区划已由代码%(code)s的行导入。") % {"code": claimed[region.pk]},
                )
                continue
            claimed[region.pk] = code
        planned[code] = Planned(row, code, name, level, urban_rural, None, region)
    # Parents: in the file or in the tree (a re-coded unit answers to its new code only).
    recoded_away = {
        item.region.code
        for item in planned.values()
        if item.region and item.region.code != item.code
    }
    for item in planned.values():
        if item.level == Level.PROVINCE:
            continue
        candidates = parent_codes(item.code, item.level)
        parent = next(
            (
                candidate
                for candidate in candidates
                if candidate in planned
                or (
                    candidate in existing
                    and candidate not in recoded_away
                    and existing[candidate].ended_on is None
                )
            ),
            None,
        )
        if parent is None:
            error(
                table,
                item.row,
                "code",
                _("上级区划%(code)s不存在：请在文件中列出上级，或先导入上级区划。")
                % {"code": candidates[0]},
            )
            continue
        item.parent_code = parent
    # Scope: the path every row will have, and the one it has now.
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        if code in paths:
            return paths[code]
        item = planned.get(code)
        if item is None:
            return existing[code].path
        parent = item.parent_code
        path = (path_of(parent) if parent else "/") + code + "/"
        paths[code] = path
        return path

    for item in planned.values():
        if item.level != Level.PROVINCE and item.parent_code is None:
            continue
        changes = item.region is None or _differs(item, existing)
        if changes and not (
            _in_scope(actor, path_of(item.code))
            and (item.region is None or _in_scope(actor, item.region.path))
        ):
            error(
                table,
                item.row,
                "code",
                _("区划%(code)s不在您的管辖范围内，不能导入或修改。") % {"code": item.code},
            )
    # Merges: from the main sheet's 并入区划代码 and the 撤并 sheet.
    merge_table = tables.get(MERGE_SHEET.name)
    if merge_table is not None:
        for row in merge_table.rows:
            code = _text(row.values.get("former_code"))
            message = code_error(code)
            if message:
                error(merge_table, row, "former_code", message)
                continue
            date = row.values.get("date") or today
            merge_rows.append((merge_table, row, code, _text(row.values.get("merged_into")), date))
    merged: set[str] = set()
    for tab, row, code, into, date in merge_rows:
        key = "former_code" if tab.spec is MERGE_SHEET else "code"
        former = existing.get(code)
        if former is None:
            error(tab, row, key, _("撤并的区划%(code)s在系统中不存在。") % {"code": code})
            continue
        if code in merged or code in planned:
            error(tab, row, key, _("区划%(code)s在文件中重复出现。") % {"code": code})
            continue
        merged.add(code)
        target = planned.get(into)
        target_level = (
            target.level if target else (existing[into].level if into in existing else None)
        )
        if target_level is None or (into in existing and existing[into].ended_on is not None):
            error(
                tab,
                row,
                "merged_into",
                _("并入的区划%(code)s不存在或已撤并。") % {"code": into},
            )
            continue
        if into == code or target_level != former.level:
            error(
                tab,
                row,
                "merged_into",
                _("只能并入同一层级的另一区划（%(code)s是%(level)s级）。")
                % {"code": code, "level": former.get_level_display()},
            )
            continue
        if former.ended_on is not None:
            if former.merged_into is not None and former.merged_into.code == into:
                report.unchanged += 1  # merged by an earlier import of this file
                continue
            error(tab, row, key, _("区划%(code)s已撤并。") % {"code": code})
            continue
        if not (_in_scope(actor, former.path) and _in_scope(actor, path_of(into))):
            error(
                tab,
                row,
                key,
                _("区划%(code)s不在您的管辖范围内，不能导入或修改。") % {"code": code},
            )
            continue
        reasons = [
            reason
            for follower in [_registry_follower, *hooks.merge_followers()]
            for reason in follower.check(former=former, into=existing.get(into), date=date)
        ]
        if reasons:
            for reason in reasons:
                error(tab, row, key, reason)
            continue
        merges.append(Merge(row, tab, former, into, date))
    return list(planned.values()), merges


def _registry_check(*, former: Region, into: Region | None, date: datetime.date) -> list[str]:
    """The village-year data (and its resident team) of the merge's year and later moves to
    the survivor: refused when the survivor has its own row of such a year (the two villages'
    populations are not summed by guess) or when the year is signed (locked)."""
    reasons = []
    years = sorted(
        VillageYear.objects.filter(village=former, year__gte=date.year).values_list(
            "year", flat=True
        )
    )
    if into is not None:
        for year in VillageYear.objects.filter(village=into, year__in=years).values_list(
            "year", flat=True
        ):
            reasons.append(
                _(
                    "%(former)s与%(into)s都有%(year)d年的村年度信息：请先导入合并后的该年度村年度"
                    "信息（并删除%(former)s的该年度数据），再导入撤并。"
                )
                % {"former": former.name, "into": into.name, "year": year}
            )
    locks = yearlock.LockIndex()
    for year in years:
        locked = locks.error(former.path, year)
        if locked is not None:
            reasons.append(locked)
    return reasons


def _registry_move(*, former: Region, into: Region, date: datetime.date) -> dict[str, int]:
    """What of the registry and the platform points at a merged unit and lives on: the users
    of the unit (its cadres work for the survivor), the data problems of the moved households,
    the village-year rows from the merge's year (with their resident teams)."""
    return {
        "users": User.objects.filter(region=former).update(region=into),
        "data_problems": DataProblem.objects.filter(village=former).update(village=into),
        "village_years": VillageYear.objects.filter(village=former, year__gte=date.year).update(
            village=into
        ),
    }


_registry_follower = hooks.MergeFollower(check=_registry_check, move=_registry_move)


def _differs(item: Planned, existing: dict[str, Region]) -> bool:
    region = item.region
    assert region is not None
    parent = existing.get(item.parent_code or "")
    return (
        region.code != item.code
        or region.name != item.name
        or bool(item.urban_rural and region.urban_rural_code != item.urban_rural)
        or (item.parent_code is not None and (parent is None or region.parent_id != parent.pk))
    )


def _repath(region: Region, new_path: str) -> bool:
    """Give a region its new path and every region below it theirs (one prefix swap).
    Returns whether anything moved."""
    old_path = region.path
    if old_path == new_path:
        return False
    below = list(Region.objects.filter(path__startswith=old_path).exclude(pk=region.pk))
    region.path = new_path
    # Out of the way first: a swap of two codes must not collide on the unique path.
    Region.objects.filter(pk=region.pk).update(path=f"~{region.pk}~{new_path}")
    for node in below:
        node.path = new_path + node.path[len(old_path) :]
    Region.objects.bulk_update(below, ["path"], batch_size=500)
    Region.objects.filter(pk=region.pk).update(path=new_path)
    return True


def _create(pending: list[Region]) -> None:
    """New regions of one level, in one INSERT per batch (their parents are already saved):
    a province's ~30,000 villages are not 30,000 round trips."""
    if pending:
        Region.objects.bulk_create(pending, batch_size=1000)


def _former_name(region: Region, *, until: datetime.date) -> None:
    last = region.former_names.order_by("-valid_to", "-pk").first()
    RegionName.objects.create(
        region=region,
        name=region.name,
        code=region.code,
        valid_from=last.valid_to if last else None,
        valid_to=until,
    )


def _write(planned: list[Planned], merges: list[Merge], *, report: OnboardingReport) -> list[str]:
    """Apply the validated plan (inside the caller's transaction). Returns the change lines."""
    today = timezone.localdate()
    by_code: dict[str, Region] = {region.code: region for region in Region.objects.all()}
    changes: list[str] = []
    pending: list[Region] = []
    depth = -1
    moved = False  # once a path was rewritten, paths held in memory are re-read
    # Regions under which villages may now lie in another county: their households' and
    # members' county key is set again once every path is final (households.counties).
    rekey: list[Region] = []
    for item in sorted(planned, key=lambda item: (DEPTH[item.level], item.code)):
        if DEPTH[item.level] != depth:
            _create(pending)
            pending, depth = [], DEPTH[item.level]
        parent = by_code[item.parent_code] if item.parent_code else None
        if parent is not None and moved:
            parent.refresh_from_db(fields=["path"])
        path = (parent.path if parent else "/") + item.code + "/"
        if item.region is None:
            region = Region(
                code=item.code,
                name=item.name,
                level=item.level,
                parent=parent,
                urban_rural_code=item.urban_rural,
                path=path,
            )
            # Unique codes and existing parents were checked with the whole file.
            region.full_clean(exclude=["parent"], validate_unique=False)
            pending.append(region)
            by_code[item.code] = region
            report.created += 1
            continue
        region = by_code[item.region.code]
        if moved:
            region.refresh_from_db()
        fields: list[str] = []
        if region.name != item.name or region.code != item.code:
            _former_name(region, until=today)
            changes.append(f"{region.code} {region.name} → {item.code} {item.name}")
        if region.name != item.name:
            region.name = item.name
            fields.append("name")
        if region.code != item.code:
            by_code.pop(region.code, None)
            region.code = item.code
            fields.append("code")
        if item.urban_rural and region.urban_rural_code != item.urban_rural:
            region.urban_rural_code = item.urban_rural
            fields.append("urban_rural_code")
        if parent is not None and region.parent_id != parent.pk:
            region.parent = parent
            fields.append("parent")
        by_code[item.code] = region
        if not fields:
            report.unchanged += 1
            continue
        if _repath(region, path):
            moved = True
            rekey.append(region)
        region.full_clean(exclude=["parent"])
        region.save(update_fields=fields)
        report.updated += 1
    _create(pending)
    for merge in merges:
        former = merge.former
        former.refresh_from_db()
        into = by_code[merge.into_code]
        into.refresh_from_db()
        households = Household.objects.filter(village=former).update(
            village=into, version=F("version") + 1
        )
        report.households_moved += households
        moved_rows: dict[str, int] = {}
        for follower in [_registry_follower, *hooks.merge_followers()]:
            for what, count in follower.move(former=former, into=into, date=merge.date).items():
                moved_rows[what] = moved_rows.get(what, 0) + count
        report.rows_moved = {
            what: report.rows_moved.get(what, 0) + count for what, count in moved_rows.items()
        }
        rekey.append(into)
        for child in list(former.children.all()):
            child.parent = into
            child.save(update_fields=["parent"])
            _repath(child, into.path + child.code + "/")
        former.ended_on = merge.date
        former.merged_into = into
        former.save(update_fields=["ended_on", "merged_into"])
        report.ended += 1
        changes.append(f"{former.code} {former.name} ⇒ {into.code} {into.name}（{households}）")
    _rekey(rekey)
    return changes


def _rekey(regions: list[Region]) -> None:
    """The county key of the households (and members) under each region whose subtree moved
    or received a merged unit: one set-wise pass per outermost region, after every path is
    final."""
    paths = Region.objects.filter(pk__in=[region.pk for region in regions]).values_list(
        "path", flat=True
    )
    outermost: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(outer) for outer in outermost):
            outermost.append(path)
    for path in outermost:
        counties.resync(under=path)


def import_regions(*, actor: User | None, path: str, dry_run: bool) -> OnboardingReport:
    """Validate the whole file, then (unless `dry_run` or any error) write it in one
    transaction. Raises `ImportRefused` for a file that cannot be read at all."""
    tables, cell_errors = read_tables(path, (REGION_SHEET, MERGE_SHEET))
    report = OnboardingReport(dry_run=dry_run, errors=list(cell_errors))
    planned, merges = _validate(tables, actor=actor, report=report)
    if report.errors:
        report.created = report.updated = report.unchanged = report.ended = 0
        return report
    with transaction.atomic():
        changes = _write(planned, merges, report=report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            report.written = True
            audit.record(
                "import",
                user=actor,
                username="manage.py" if actor is None else "",
                target="povertyapp.regions",
                detail={
                    "created": report.created,
                    "updated": report.updated,
                    "ended": report.ended,
                    "households_moved": report.households_moved,
                    "rows_moved": report.rows_moved,
                    "changes": changes[:200],
                },
            )
    return report


def region_tables(path: str) -> dict[str, Table]:
    """The file's tables (for the error workbook)."""
    return read_tables(path, (REGION_SHEET, MERGE_SHEET))[0]


__all__ = ["MERGE_SHEET", "REGION_SHEET", "CellError", "import_regions", "level_of"]
