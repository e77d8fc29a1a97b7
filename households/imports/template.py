"""The blank import template: both sheets' headers, the instructions, and the value lists of the
user's province as drop-downs."""

from __future__ import annotations

import openpyxl
from django.utils import timezone
from django.utils.translation import gettext as _

from households.exports import HOUSEHOLD_SHEET, MEMBER_SHEET
from households.imports.columns import HOUSEHOLD_IMPORTED, MEMBER_IMPORTED, STATUS_BY_LABEL
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp.ledgers import layout
from povertyapp.ledgers.layout import BOOLEAN
from povertyapp.models import User

TEMPLATE_ROWS = 10000  # rows of the template that carry the drop-downs
INSTRUCTIONS = (
    "农户档案导入模板 填写说明",
    "1. 本工作簿含“户台账”和“人员台账”两张表，按表头文字识别列，"
    "列的顺序可以调整，不需要的列可以删除（户编号、行政村、户状态，户编号、姓名、证件号码、与户主关系为必需列）。",
    "2. 每户在“户台账”中占一行，户编号必填且唯一；"
    "家庭成员在“人员台账”中每人一行，用户编号与户对应。",
    "3. 证件号码、银行账号必须是文本格式（本模板已设置），"
    "不要以数字格式录入，否则末几位会丢失。15位身份证号码会自动升级为18位。"
    "出生日期和性别须与身份证号码一致，可不填，由号码自动得出。",
    "4. 带下拉箭头的列请从代码表中选择；“是/否”列填“是”或“否”。健康状况可填多项，用“、”分隔。",
    "5. 户编号已存在的户按表中内容更新（保留修改记录）；户状态和脱贫年度不能通过导入修改。",
    "6. 系统先检查整个文件，有任何错误则一条也不写入，"
    "并给出错误清单（可下载标出错误单元格的工作簿）。可先“预检”查看将新建和更新的内容，确认后再导入。",
    "7. 同一文件重复导入不会产生重复数据。"
    "以“=、+、-、@”开头的文字在导出时前加了单引号，导入时自动去除。",
)


def import_template(path: str, *, user: User) -> None:
    """The blank workbook to fill in: both sheets' headers, instructions, value-list drop-downs."""
    region = user.region
    province = province_of(region) if region is not None else None
    lists = value_lists(year=timezone.localdate().year, province=province)
    sheets = [
        layout.SheetSpec(
            name=HOUSEHOLD_SHEET,
            title=_("农户档案导入模板（户台账）"),
            columns=HOUSEHOLD_IMPORTED,
            rows=lambda: [],
            count=lambda: 0,
            with_totals=False,
        ),
        layout.SheetSpec(
            name=MEMBER_SHEET,
            title=_("农户档案导入模板（人员台账）"),
            columns=MEMBER_IMPORTED,
            rows=lambda: [],
            count=lambda: 0,
            with_totals=False,
        ),
    ]
    letterhead = layout.Letterhead(
        unit=region.name if region else "", person=user.display_name, date=timezone.localdate()
    )
    with layout.LedgerWorkbook(path, letterhead=letterhead, sensitive_visible=True) as workbook:
        book = workbook.workbook
        for sheet in sheets:
            workbook.write_sheet(sheet)
        help_sheet = book.add_worksheet(_("填写说明"))
        help_sheet.set_column(0, 0, 110)
        wrap = book.add_format({"text_wrap": True, "valign": "top", "font_name": "宋体"})
        for index, line in enumerate(INSTRUCTIONS):
            help_sheet.write_string(index, 0, line, wrap)
        codes = book.add_worksheet(_("代码表"))
        ranges: dict[str, str] = {}
        named = {
            **dict(lists),
            "__status__": list(STATUS_BY_LABEL),
            "__sex__": ["男", "女"],
            "__bool__": [layout.YES, layout.NO],
        }
        for column, (key, labels) in enumerate(named.items()):
            codes.write_string(0, column, key)
            for row, label in enumerate(labels, start=1):
                codes.write_string(row, column, label)
            letter = openpyxl.utils.get_column_letter(column + 1)
            ranges[key] = f"='{codes.name}'!${letter}$2:${letter}${len(labels) + 1}"
        codes.hide()
        for sheet in sheets:
            worksheet, first = workbook.sheets[sheet.name]
            for index, spec in enumerate(sheet.columns, start=1):
                source = None
                if spec.value_list and spec.value_list in ranges:
                    source = ranges[spec.value_list]
                elif spec.kind == BOOLEAN:
                    source = ranges["__bool__"]
                elif spec.key == "status":
                    source = ranges["__status__"]
                elif spec.key == "sex":
                    source = ranges["__sex__"]
                if source is None:
                    continue
                worksheet.data_validation(
                    first,
                    index,
                    first + TEMPLATE_ROWS,
                    index,
                    {
                        "validate": "list",
                        "source": source,
                        "error_title": _("不在代码表中"),
                        "error_message": _("请从下拉列表中选择“%(header)s”。")
                        % {"header": spec.header},
                    },
                )
