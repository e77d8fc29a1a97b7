"""The departments' list layouts, as data (issue 15, 部门筛查预警 and 剔除核查).

Each layout says which department pushes it, what it is for (a risk warning that raises clues,
or data for exclusion scrutiny that raises scrutiny tasks), the header texts that name each
field (several spellings: departments export from their own systems), which fields are
required, the risk type a warning raises and the standard a row must pass (医保 costs over the
threshold, vehicles over the value set). Headers are found by their text wherever the columns
are; every other column is kept with the row as its `details`.

A department account uploads only its own department's layouts; the county office any
(`layouts_for`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring.models import DepartmentList, RiskType
from povertyapp import roles
from povertyapp.models import User

Department = User.Department
Purpose = DepartmentList.Purpose

# Field kinds.
ID = "id"  # a resident ID number (checked: length, date, checksum, address code)
TEXT = "text"
MONEY = "money"
DATE = "date"  # a date as the department wrote it (kept as text)
DAY = "day"  # a calendar date, checked and kept as one (身份共享's 认定日期, 终止日期)
IDENTITY = "identity"  # a 身份类别 in words (`monitoring.identities.parse_kind`)

# The standards a row must pass before it counts (`monitoring.lists`).
MEDICAL_THRESHOLD = "medical"  # LocalRules: share of rural income, or an absolute amount
VEHICLE_VALUE = "vehicle"  # LocalRules.vehicle_value


@dataclass(frozen=True)
class Field:
    key: str
    label: str | Promise  # the header the template workbook carries
    headers: tuple[str, ...]  # every spelling accepted (the label's text first)
    kind: str = TEXT
    required: bool = False


@dataclass(frozen=True)
class Layout:
    key: str
    department: str
    purpose: str
    label: str | Promise
    fields: tuple[Field, ...]
    risk_type: str = ""  # the risk a warning list raises (purpose RISK)
    standard: str = ""  # MEDICAL_THRESHOLD, VEHICLE_VALUE or ""
    # The field whose amount the standard reads, and that a clue carries as its `amount`.
    amount_field: str = ""
    note: str | Promise = ""
    extra: dict[str, str] = field(default_factory=dict)
    # What a row's fields must say together, once each parsed (`check(values, today)`: the
    # fault in words, or None); its faults are listed with every other bad row's.
    row_check: Callable[[dict[str, Any], datetime.date], str | None] | None = None

    def field(self, key: str) -> Field | None:
        return next((item for item in self.fields if item.key == key), None)

    @property
    def required(self) -> tuple[Field, ...]:
        return tuple(item for item in self.fields if item.required)


# The fields every list shares.
NAME = Field(
    "name",
    _("姓名"),
    (
        "姓名",
        "患者姓名",
        "参保人姓名",
        "学生姓名",
        "人员姓名",
        "车主姓名",
        "所有权人",
        "权利人",
        "法定代表人",
        "股东姓名",
    ),
    required=True,
)
ID_NUMBER = Field(
    "id_number",
    _("身份证号"),
    ("身份证号", "身份证号码", "证件号码", "公民身份号码", "身份证件号码", "证件号"),
    kind=ID,
    required=True,
)
PHONE = Field("phone", _("联系电话"), ("联系电话", "手机号", "手机号码", "电话"))
DIFFICULTY = Field("difficulty", _("情况说明"), ("情况说明", "备注", "事由", "原因"))


def _risk(
    key: str,
    department: str,
    label: str | Promise,
    risk_type: str,
    *extra: Field,
    standard: str = "",
    amount_field: str = "",
) -> Layout:
    return Layout(
        key=key,
        department=department,
        purpose=Purpose.RISK,
        label=label,
        fields=(NAME, ID_NUMBER, *extra, PHONE, DIFFICULTY),
        risk_type=risk_type,
        standard=standard,
        amount_field=amount_field,
    )


def _scrutiny(
    key: str,
    department: str,
    label: str | Promise,
    *extra: Field,
    standard: str = "",
    amount_field: str = "",
) -> Layout:
    return Layout(
        key=key,
        department=department,
        purpose=Purpose.SCRUTINY,
        label=label,
        fields=(NAME, ID_NUMBER, *extra),
        standard=standard,
        amount_field=amount_field,
    )


def identity_dates(values: dict[str, Any], today: datetime.date) -> str | None:
    """A 身份共享 row's dates: certified by today, ended (if at all) on or after it began. A
    终止日期 after today is the end the department has set."""
    start, end = values.get("start"), values.get("end")
    if not isinstance(start, datetime.date):
        return None  # its own fault is listed already
    if start > today:
        return gettext("认定日期（%(start)s）晚于今天。") % {"start": start.isoformat()}
    if isinstance(end, datetime.date) and end < start:
        return gettext("终止日期（%(end)s）早于认定日期（%(start)s）。") % {
            "end": end.isoformat(),
            "start": start.isoformat(),
        }
    return None


def _identity(key: str, department: str, label: str | Promise, *extra: Field) -> Layout:
    return Layout(
        key=key,
        department=department,
        purpose=Purpose.IDENTITY,
        label=label,
        fields=(NAME, ID_NUMBER, *extra),
        row_check=identity_dates,
        note=_(
            "每行一人一种身份；同一人有几种身份写几行。身份类别写农村低保对象、农村特困人员、"
            "低保边缘家庭成员或刚性支出困难家庭成员；终止日期留空表示仍在享受。"
        ),
    )


LAYOUTS: tuple[Layout, ...] = (
    # --- 部门筛查预警 (risk warnings: clues) -----------------------------------------------
    _risk(
        "medical_costs",
        Department.MEDICAL_INSURANCE,
        _("大额医疗费用个人自付"),
        RiskType.ILLNESS,
        Field(
            "amount",
            _("个人自付金额"),
            ("个人自付金额", "自付金额", "个人自付", "自付费用", "个人负担金额", "个人负担"),
            kind=MONEY,
            required=True,
        ),
        Field("period_text", _("就诊期间"), ("就诊期间", "结算期间", "就诊时间", "结算时间")),
        standard=MEDICAL_THRESHOLD,
        amount_field="amount",
    ),
    _risk(
        "dropout",
        Department.EDUCATION,
        _("辍学学生"),
        RiskType.EDUCATION,
        Field("school", _("学校"), ("学校", "就读学校", "学校名称")),
    ),
    _risk(
        "student_aid",
        Department.EDUCATION,
        _("学生资助"),
        RiskType.EDUCATION,
        Field("school", _("学校"), ("学校", "就读学校", "学校名称")),
        Field("amount", _("资助金额"), ("资助金额", "金额"), kind=MONEY),
        amount_field="amount",
    ),
    _risk("new_dibao", Department.CIVIL_AFFAIRS, _("新增低保"), RiskType.OTHER),
    _risk("new_tekun", Department.CIVIL_AFFAIRS, _("新增特困供养"), RiskType.LABOUR),
    _risk(
        "disability",
        Department.DISABLED_FEDERATION,
        _("新增或重度残疾"),
        RiskType.DISABILITY,
        Field("grade", _("残疾等级"), ("残疾等级", "等级")),
        Field("disability_kind", _("残疾类别"), ("残疾类别", "类别")),
    ),
    _risk(
        "disaster",
        Department.EMERGENCY,
        _("受灾人员"),
        RiskType.DISASTER,
        Field("loss", _("损失金额"), ("损失金额", "直接经济损失", "损失"), kind=MONEY),
        amount_field="loss",
    ),
    _risk(
        "accident",
        Department.EMERGENCY,
        _("事故伤亡"),
        RiskType.ACCIDENT,
        Field("event", _("事故情况"), ("事故情况", "事故类型")),
    ),
    _risk(
        "unsafe_housing",
        Department.HOUSING,
        _("农村危房"),
        RiskType.HOUSING,
        Field("grade", _("危房等级"), ("危房等级", "鉴定等级")),
    ),
    _risk(
        "unemployment",
        Department.HUMAN_RESOURCES,
        _("失业人员"),
        RiskType.EMPLOYMENT,
        Field("since", _("失业日期"), ("失业日期", "失业时间")),
    ),
    _risk(
        "casualty",
        Department.PUBLIC_SECURITY,
        _("意外伤亡"),
        RiskType.ACCIDENT,
        Field("event", _("事故情况"), ("事故情况", "伤亡情况")),
    ),
    # --- 身份共享 (the low-income identities another department certifies) ----------------
    _identity(
        "low_income",
        Department.CIVIL_AFFAIRS,
        _("农村低收入人口身份"),
        Field(
            "identity",
            _("身份类别"),
            ("身份类别", "人员类别", "对象类别", "救助类别", "保障类别", "身份"),
            kind=IDENTITY,
            required=True,
        ),
        Field(
            "start",
            _("认定日期"),
            ("认定日期", "审批日期", "纳入日期", "起始日期", "开始享受日期"),
            kind=DAY,
            required=True,
        ),
        Field("end", _("终止日期"), ("终止日期", "退出日期", "停保日期", "截止日期"), kind=DAY),
    ),
    # --- 剔除核查 (exclusion scrutiny: tasks) ------------------------------------------------
    _scrutiny(
        "vehicles",
        Department.PUBLIC_SECURITY,
        _("车辆登记"),
        Field("plate", _("号牌号码"), ("号牌号码", "车牌号", "车牌号码")),
        Field(
            "value",
            _("车辆价值"),
            ("车辆价值", "车辆价格", "购置价格", "购车价格", "评估价值"),
            kind=MONEY,
            required=True,
        ),
        standard=VEHICLE_VALUE,
        amount_field="value",
    ),
    _scrutiny(
        "property",
        Department.NATURAL_RESOURCES,
        _("商品房和门面"),
        Field("address", _("坐落"), ("坐落", "房屋坐落", "地址")),
        Field("use", _("用途"), ("用途", "房屋用途")),
        Field("area", _("面积"), ("面积", "建筑面积")),
    ),
    _scrutiny(
        "enterprises",
        Department.MARKET_REGULATION,
        _("工商企业法定代表人和股东"),
        Field("enterprise", _("企业名称"), ("企业名称", "市场主体名称"), required=True),
        Field("position", _("身份"), ("身份", "任职类型", "职务")),
    ),
    _scrutiny(
        "public_payroll",
        Department.FINANCE,
        _("财政供养人员"),
        Field("employer", _("工作单位"), ("工作单位", "单位名称", "单位")),
    ),
    _scrutiny(
        "village_cadres",
        Department.ORGANIZATION,
        _("村干部"),
        Field("village_text", _("任职村"), ("任职村", "所在村")),
        Field("post", _("职务"), ("职务",)),
    ),
)

BY_KEY: dict[str, Layout] = {layout.key: layout for layout in LAYOUTS}
DepartmentList.LAYOUT_LABELS.update({layout.key: layout.label for layout in LAYOUTS})


def get(key: str) -> Layout | None:
    return BY_KEY.get(key)


def layout_label(key: str) -> str:
    """What a list's `layout` is called on a page: the layout's label (大额医疗费用个人自付 for
    `medical_costs`) in the reader's language, or the stored text itself for a list recorded
    before the layouts (its layout holds the department's own name for it)."""
    layout = BY_KEY.get(key)
    return str(layout.label) if layout is not None else key


def layouts_for(user: User) -> list[Layout]:
    """The layouts `user` may upload: a department account its own department's, the county
    office every one, anyone else none."""
    if roles.is_department(user):
        return [layout for layout in LAYOUTS if layout.department == user.department]
    if roles.can_push_department_lists(user):
        return list(LAYOUTS)
    return []


def may_upload(user: User, layout: Layout) -> bool:
    return any(item.key == layout.key for item in layouts_for(user))


def normalise_header(text: object) -> str:
    """A header cell's text as compared: spaces, line breaks and required-marks removed."""
    if not isinstance(text, str):
        return ""
    return "".join(text.split()).replace("*", "").replace("＊", "")


def header_map(layout: Layout) -> dict[str, str]:
    """Normalised header text → field key."""
    return {normalise_header(header): item.key for item in layout.fields for header in item.headers}
