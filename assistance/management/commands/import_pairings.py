"""`python manage.py import_pairings FILE.xlsx [--user NAME]`: see `assistance.imports.pairings`."""

from assistance.management.commands._workbook import WorkbookImportCommand


class Command(WorkbookImportCommand):
    help = "导入结对帮扶工作簿；更换帮扶责任人时结束上一条结对；有任何错误则一条也不写入。"
    key = "pairings"
