"""`python manage.py import_projects FILE.xlsx [--user NAME]`: see `assistance.imports.projects`."""

from assistance.management.commands._workbook import WorkbookImportCommand


class Command(WorkbookImportCommand):
    help = "导入项目库工作簿（项目库表、受益户表）；有任何错误则一条也不写入。"
    key = "projects"
