"""The blank template of an assistance workbook: each sheet's Chinese headers (required ones
marked), text-formatted cells where numbers would lose digits, drop-downs where the value is
one of a list, and a 填写说明 sheet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from assistance.imports.reading import SheetSpec
from povertyapp.ledgers.layout import DATE, MONEY, SENSITIVE, TEXT

TEMPLATE_ROWS = 5000  # rows of the template that carry the drop-downs and formats


def write_template(
    path: str,
    *,
    specs: Sequence[SheetSpec],
    instructions: Sequence[str],
    choices: Mapping[str, Sequence[str]],
) -> None:
    """Write the template to `path`. `choices` maps a column key to its allowed values."""
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_numbers": False})
    try:
        header = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        required = book.add_format(
            {"bold": True, "bg_color": "#FFF2CC", "border": 1, "font_color": "#9C0006"}
        )
        as_text = book.add_format({"num_format": "@"})
        as_date = book.add_format({"num_format": "yyyy-mm-dd"})
        as_money = book.add_format({"num_format": "0.00"})
        lists = book.add_worksheet(_("代码表"))
        ranges: dict[str, str] = {}
        for index, (key, values) in enumerate(choices.items()):
            lists.write_string(0, index, key)
            for row, value in enumerate(values, start=1):
                lists.write_string(row, index, value)
            letter = xlsxwriter.utility.xl_col_to_name(index)
            ranges[key] = f"='{lists.name}'!${letter}$2:${letter}${max(len(values), 1) + 1}"
        sheets = []
        for spec in specs:
            sheet = book.add_worksheet(spec.name)
            sheets.append(sheet)
            for index, column in enumerate(spec.columns):
                marked = column.key in spec.required
                sheet.write_string(0, index, column.header, required if marked else header)
                width = column.width or max(10, len(column.header) * 2 + 2)
                cell_format = {
                    SENSITIVE: as_text,
                    TEXT: as_text,
                    DATE: as_date,
                    MONEY: as_money,
                }.get(column.kind)
                sheet.set_column(index, index, width, cell_format)
                if column.key in ranges:
                    sheet.data_validation(
                        1,
                        index,
                        TEMPLATE_ROWS,
                        index,
                        {
                            "validate": "list",
                            "source": ranges[column.key],
                            "error_title": _("不在代码表中"),
                            "error_message": _("请从下拉列表中选择“%(header)s”。")
                            % {"header": column.header},
                        },
                    )
            sheet.freeze_panes(1, 0)
        help_sheet = book.add_worksheet(_("填写说明"))
        help_sheet.set_column(0, 0, 110)
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        for index, line in enumerate(instructions):
            help_sheet.write_string(index, 0, line, wrap)
        lists.hide()
        sheets[0].activate()
    finally:
        book.close()
