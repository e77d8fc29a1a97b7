"""The national record layouts for 户, 人 and the 四类名单: columns in the national order, with
the national headers and the code table each coded column goes through (`codes`).

`encode_record` turns one of our records (a dict of Chinese labels, numbers, dates and
booleans, keyed by field) into the national cells and lists every value that has no national
code; `decode_cell` reads a national cell back into our label, for the reconciliation.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from households.national import codes
from povertyapp.ledgers.layout import DATE, HEALTH, INTEGER, SENSITIVE, TEXT, Column

HOUSEHOLD = "household"
MEMBER = "member"
ROUND_LIST = "round_list"


@dataclass(frozen=True)
class Field:
    """One column of a national layout. `table` names its code table (`codes`); `multi` when
    several of our labels (joined by "、") go into one cell as codes joined by ","."""

    key: str
    header: str
    table: str = ""
    kind: str = TEXT
    multi: bool = False
    width: float | None = None

    def column(self) -> Column:
        # A coded cell is text ("01" keeps its zero); ID numbers stay SENSITIVE (text, masked
        # for roles without the right), health stays HEALTH (masked likewise).
        kind = self.kind if self.kind in (SENSITIVE, HEALTH) or not self.table else TEXT
        return Column(self.key, self.header, kind, width=self.width)


@dataclass(frozen=True)
class Layout:
    key: str
    title: str
    record_key: str  # the field that identifies a record (户编号, 证件号码)
    fields: tuple[Field, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(field.header for field in self.fields)

    def columns(self) -> tuple[Column, ...]:
        return tuple(field.column() for field in self.fields)


HOUSEHOLD_LAYOUT = Layout(
    key=HOUSEHOLD,
    title="户基本信息",
    record_key="number",
    fields=(
        Field("number", "户编号"),
        Field("village_code", "行政区划代码"),
        Field("township_name", "乡（镇）"),
        Field("village_name", "行政村"),
        Field("head_name", "户主姓名"),
        Field("head_id_number", "户主证件号码", kind=SENSITIVE),
        Field("person_count", "家庭人口数", kind=INTEGER),
        Field("status", "贫困户状态", codes.HOUSEHOLD_STATUS),
        Field("identification_standard", "识别标准", codes.IDENTIFICATION_STANDARD),
        Field("poverty_attribute", "贫困户属性", codes.POVERTY_ATTRIBUTE),
        Field("main_cause", "主要致贫原因", codes.CAUSE),
        Field("other_cause_1", "其他致贫原因1", codes.CAUSE),
        Field("other_cause_2", "其他致贫原因2", codes.CAUSE),
        Field("first_identified_year", "识别年度", kind=INTEGER),
        Field("planned_exit_year", "计划脱贫年度", kind=INTEGER),
        Field("exit_year", "脱贫年度", kind=INTEGER),
        Field("phone", "联系电话"),
        Field("bank_name", "开户银行"),
        Field("bank_account", "银行账号", kind=SENSITIVE),
        Field("is_military_family", "是否军烈属", codes.YES_NO),
        Field("house_grade", "危房等级", codes.HOUSE_GRADE),
        Field("water_safe", "饮水是否安全", codes.YES_NO),
        Field("relocated", "是否易地扶贫搬迁", codes.YES_NO),
    ),
)

MEMBER_LAYOUT = Layout(
    key=MEMBER,
    title="家庭成员信息",
    record_key="id_number",
    fields=(
        Field("household_number", "户编号"),
        Field("id_number", "证件号码", kind=SENSITIVE),
        Field("name", "姓名"),
        Field("id_type", "证件类型", codes.ID_TYPE),
        Field("sex", "性别", codes.SEX),
        Field("birth_date", "出生日期", kind=DATE),
        Field("relation", "与户主关系", codes.RELATION),
        Field("ethnicity", "民族", codes.ETHNICITY),
        Field("education", "文化程度", codes.EDUCATION),
        Field("school_status", "在校生状况", codes.SCHOOL_STATUS),
        Field("health", "健康状况", codes.HEALTH, kind=HEALTH, multi=True),
        Field("labour_skill", "劳动技能", codes.LABOUR_SKILL),
        Field("work_status", "务工状况", codes.WORK_STATUS),
        Field("work_months", "务工时间（月）", kind=INTEGER),
        Field("has_medical_insurance", "是否参加城乡居民基本医疗保险", codes.YES_NO),
        Field("has_critical_illness_insurance", "是否参加大病保险", codes.YES_NO),
        Field("has_pension_insurance", "是否参加城乡居民基本养老保险", codes.YES_NO),
        Field("receives_dibao", "是否享受农村低保", codes.YES_NO),
        Field("is_tekun", "是否特困供养人员", codes.YES_NO),
        Field("is_active_soldier", "是否现役军人", codes.YES_NO),
        Field("living_status", "生存状态", codes.LIVING_STATUS),
    ),
)

ROUND_LIST_LAYOUT = Layout(
    key=ROUND_LIST,
    title="四类名单",
    record_key="number",
    fields=(
        Field("kind", "名单类型", codes.LIST_KIND),
        Field("village_code", "行政区划代码"),
        Field("township_name", "乡（镇）"),
        Field("village_name", "行政村"),
        Field("number", "户编号"),
        Field("head_name", "户主姓名"),
        Field("head_id_number", "户主证件号码", kind=SENSITIVE),
        Field("persons", "人数", kind=INTEGER),
        Field("reason", "理由", width=30),
        Field("ground", "剔除理由"),
        Field("decided_at", "县级审定日期", kind=DATE),
    ),
)

LAYOUTS: dict[str, Layout] = {
    layout.key: layout for layout in (HOUSEHOLD_LAYOUT, MEMBER_LAYOUT, ROUND_LIST_LAYOUT)
}


@dataclass(frozen=True)
class CodeProblem:
    """A value of ours that has no national code: listed, never written as a blank."""

    record: str  # 户编号, or 户编号 and name for a person
    header: str
    value: str


def label_of(value: Any) -> str:
    """Our value as the label the code tables key on (booleans as 是/否, None as blank)."""
    if value is None:
        return ""
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


def encode_record(
    layout: Layout, record: Mapping[str, Any], *, record_name: str, version: str
) -> tuple[list[Any], list[CodeProblem]]:
    """The national cells of `record` in `layout`'s order, and its values without a code (their
    cells left empty: the problems say why)."""
    cells: list[Any] = []
    problems: list[CodeProblem] = []
    for field in layout.fields:
        value = record.get(field.key)
        if not field.table:
            cells.append(value)
            continue
        label = label_of(value)
        if not label:
            cells.append("")
            continue
        labels = label.split(codes.MULTI_SEPARATOR) if field.multi else [label]
        coded = []
        for item in labels:
            code = codes.encode(field.table, item, version=version)
            if code is None:
                problems.append(CodeProblem(record=record_name, header=field.header, value=item))
            else:
                coded.append(code)
        complete = len(coded) == len(labels)
        cells.append(codes.NATIONAL_MULTI_SEPARATOR.join(coded) if complete else "")
    return cells, problems


UNKNOWN_CODE = "?"


def decode_cell(field: Field, cell: Any, *, version: str) -> str:
    """A national cell as our comparable text: a code decoded to our label (an unknown code as
    "?code"), a number without trailing zeros, a date as YYYY-MM-DD."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime.datetime):
        cell = cell.date()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    text = str(cell).strip()
    if not text:
        return ""
    if field.table:
        parts = text.split(codes.NATIONAL_MULTI_SEPARATOR) if field.multi else [text]
        labels = []
        for part in parts:
            label = codes.decode(field.table, part.strip(), version=version)
            labels.append(label if label is not None else UNKNOWN_CODE + part.strip())
        return codes.MULTI_SEPARATOR.join(labels)
    return comparable(field, text)


def comparable(field: Field, value: Any) -> str:
    """Our value (or a national uncoded cell) as comparable text."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if field.table:
        return label_of(value)
    text = str(value).strip()
    if field.kind == INTEGER and text:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return str(int(number)) if number == number.to_integral_value() else str(number)
    if field.kind == DATE and len(text) >= 10:
        return text[:10]
    return text


def header_map(layout: Layout, row: Sequence[Any]) -> dict[str, int] | None:
    """Where each of the layout's headers stands in `row`; None unless every header is there."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(row):
        text = str(cell).strip() if cell is not None else ""
        if text and text not in positions:
            positions[text] = index
    if all(header in positions for header in layout.headers):
        return {field.key: positions[field.header] for field in layout.fields}
    return None
