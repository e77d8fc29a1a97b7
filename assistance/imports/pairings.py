"""The 结对帮扶 workbook (`import_pairings`): one row per 帮扶责任人 of a household over a period.

DOMAIN §6: a change of helper closes the previous line and adds a new one. A household's rows
are taken in the order of their 帮扶开始日期; each new row goes through `pairing_change`, which
closes the line before it the day before the new start. A 帮扶结束日期 on the household's last
row ends that line (`pairing_end`: the helper left, nobody named yet); on an earlier row it
must be the day before the next row's start. The helper's user account is found when there is
exactly one active 帮扶责任人 account of that name (and phone, when given).

Natural key: 户编号 + 帮扶责任人 + 帮扶开始日期. A row matching a line already recorded writes
nothing (unless its 结束日期 ends the current line), so the same file imported twice is a no-op.
History cannot be inserted: a new row must start after the household's latest recorded line.
Every row is checked first; any error refuses the whole file and nothing is written."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance import services
from assistance.imports.reading import Problems, Row, SheetSpec, read_workbook, text
from assistance.imports.result import ImportResult
from assistance.imports.template import write_template
from assistance.models import Pairing
from households.models import Household
from povertyapp import audit, roles
from povertyapp.ledgers.layout import DATE, Column
from povertyapp.models import User

SHEET = SheetSpec(
    name="结对帮扶",
    columns=(
        Column("number", "户编号", width=22),
        Column("name", "帮扶责任人", width=12),
        Column("unit", "工作单位", width=28),
        Column("post", "职务", width=12),
        Column("phone", "联系电话", width=16),
        Column("start_date", "帮扶开始日期", DATE, width=14),
        Column("end_date", "帮扶结束日期", DATE, width=14),
    ),
    required=frozenset({"number", "name", "start_date"}),
)
INSTRUCTIONS = (
    "结对帮扶导入模板 填写说明",
    "1. 每行一位帮扶责任人在一段时间内的结对。户编号、帮扶责任人、帮扶开始日期必填。",
    "2. 更换帮扶责任人时新增一行：系统按开始日期排序，新的一行自动结束上一位帮扶责任人"
    "（结束日期为新开始日期的前一天）。中间行的结束日期可不填；填写的须为下一行开始日期的前一天。",
    "3. 某户最后一行填写结束日期，表示该帮扶责任人已结束帮扶、暂无接替人。",
    "4. 系统中有同名（及同一联系电话）的帮扶责任人账号时自动关联该账号。",
    "5. 同一户、同一帮扶责任人、同一开始日期的行视为同一条结对，已有的不重复写入；"
    "不能在系统已有的最近一条结对之前插入历史记录。",
    "6. 系统先检查整个文件，有任何错误则一条也不写入，并给出问题清单。",
)


@dataclass
class _Line:
    row: Row
    household: Household
    name: str
    start: datetime.date
    end: datetime.date | None
    existing: Pairing | None
    helper: User | None = None
    close: bool = False  # end the line on `end` (the household's last row)


def _require_importer(actor: User) -> None:
    if not roles.can_write_households(actor):
        raise PermissionDenied(_("只有村级录入员和县扶贫办可以导入结对帮扶。"))


def pairings_template(path: str, *, user: User) -> None:
    write_template(path, specs=[SHEET], instructions=INSTRUCTIONS, choices={})


def _helper(name: str, phone: str) -> User | None:
    candidates = User.objects.filter(role=User.Role.HELPER, is_active=True, full_name=name)
    if phone:
        candidates = candidates.filter(phone=phone)
    found = list(candidates[:2])
    return found[0] if len(found) == 1 else None


def _validate(actor: User, rows: list[Row], problems: Problems) -> list[_Line]:
    numbers = {text(row, "number") for row in rows} - {""}
    households = {
        household.number: household
        for household in roles.household_scope(actor, Household.objects.filter(number__in=numbers))
    }
    recorded: dict[int, list[Pairing]] = defaultdict(list)
    for pairing in Pairing.objects.filter(household__in=households.values()).order_by("start_date"):
        recorded[pairing.household_id].append(pairing)
    today = timezone.localdate()
    by_household: dict[int, list[_Line]] = defaultdict(list)
    for row in rows:
        number = text(row, "number")
        if not number:
            problems.add(row, _("请填写户编号。"))
            continue
        household = households.get(number)
        if household is None:
            problems.add(row, _("户编号不存在，或该户不在您的管辖范围内。"), number=number)
            continue
        name = text(row, "name")
        start, end = row.values["start_date"], row.values["end_date"]
        if not name:
            problems.add(row, _("请填写帮扶责任人姓名。"), number=number)
        if start is None:
            if "start_date" not in row.bad:
                problems.add(row, _("请填写帮扶开始日期。"), number=number)
            continue
        for day, label in ((start, _("帮扶开始日期")), (end, _("帮扶结束日期"))):
            if day and day > today:
                problems.add(row, _("%(label)s不能晚于今天。") % {"label": label}, number=number)
        if end and end < start:
            problems.add(row, _("帮扶结束日期不能早于帮扶开始日期。"), number=number)
        if not name:
            continue
        existing = next(
            (p for p in recorded[household.pk] if p.name == name and p.start_date == start), None
        )
        by_household[household.pk].append(
            _Line(
                row=row,
                household=household,
                name=name,
                start=start,
                end=end,
                existing=existing,
                helper=None if existing else _helper(name, text(row, "phone")),
            )
        )
    lines: list[_Line] = []
    for household_id, group in by_household.items():
        group.sort(key=lambda line: line.start)
        latest = recorded[household_id][-1] if recorded[household_id] else None
        for index, line in enumerate(group):
            number = line.household.number
            following = group[index + 1] if index + 1 < len(group) else None
            if following is not None and following.start == line.start:
                problems.add(
                    following.row,
                    _("与第%(other)d行的帮扶开始日期相同，同一户同一天只能有一位帮扶责任人。")
                    % {"other": line.row.number},
                    number=number,
                )
                continue
            if line.existing is None and latest is not None and line.start <= latest.start_date:
                problems.add(
                    line.row,
                    _(
                        "帮扶开始日期应晚于系统中最近一位帮扶责任人（%(name)s）的开始日期"
                        "（%(date)s）；不能在已有记录之前插入历史。"
                    )
                    % {"name": latest.name, "date": latest.start_date.isoformat()},
                    number=number,
                )
                continue
            if following is not None:
                day_before = following.start - datetime.timedelta(days=1)
                if line.end is not None and line.end != day_before:
                    problems.add(
                        line.row,
                        _("帮扶结束日期应为下一位帮扶责任人开始日期的前一天（%(date)s）。")
                        % {"date": day_before.isoformat()},
                        number=number,
                    )
                    continue
            elif line.end is not None:
                stored_end = line.existing.end_date if line.existing else None
                if line.existing is not None and stored_end is not None:
                    if stored_end != line.end:
                        problems.add(
                            line.row,
                            _("帮扶结束日期与系统中的记录（%(date)s）不同。")
                            % {"date": stored_end.isoformat()},
                            number=number,
                        )
                        continue
                else:
                    line.close = True
            lines.append(line)
    lines.sort(key=lambda line: (line.household.number, line.start))
    return lines


def import_pairings(*, actor: User, path: str, max_rows: int) -> ImportResult:
    """Check the whole 结对帮扶 workbook at `path`; write every row (one transaction) or none.
    Raises ValidationError with every problem (row by row) when anything is wrong."""
    _require_importer(actor)
    problems = Problems()
    rows = read_workbook(path, [SHEET], max_rows=max_rows, problems=problems)[SHEET.name]
    if not rows and not problems:
        problems.add(None, _("文件中没有结对帮扶记录。"))
    lines = _validate(actor, rows, problems)
    problems.refuse()
    result = ImportResult()
    current: _Line | None = None
    try:
        with transaction.atomic():
            for current in lines:
                pairing = current.existing
                if pairing is None:
                    pairing = services.pairing_change(
                        actor=actor,
                        household=current.household,
                        name=current.name,
                        start_date=current.start,
                        helper=current.helper,
                        unit=text(current.row, "unit"),
                        post=text(current.row, "post"),
                        phone=text(current.row, "phone"),
                    )
                    result.created += 1
                elif not current.close:
                    result.unchanged += 1
                else:
                    result.updated += 1
                if current.close and current.end is not None:
                    services.pairing_end(actor=actor, pairing=pairing, end_date=current.end)
            audit.record(
                "import", user=actor, target="assistance.pairings", detail=result.as_dict()
            )
    except ValidationError as error:
        problems.add(
            current.row if current else None,
            "；".join(error.messages),
            number=current.household.number if current else "",
        )
        problems.refuse()
    return result
