"""`python manage.py import_measures FILE.xlsx [--user NAME]`: see `assistance.imports.measures`."""

from assistance.management.commands._workbook import WorkbookImportCommand


class Command(WorkbookImportCommand):
    help = "导入帮扶措施工作簿（帮扶措施表）；有任何错误则一条也不写入。"
    key = "measures"
