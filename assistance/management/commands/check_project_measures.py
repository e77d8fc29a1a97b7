"""`python manage.py check_project_measures [--region CODE] [--year YEAR]`: every project whose
受益户 and 到户 money do not reconcile with the measures linked to it (`assistance.reconcile`),
household by household. Exit status 1 when there is any difference."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistance.models import Project
from assistance.reconcile import projects_with_differences


class Command(BaseCommand):
    help = "核对项目的受益户、到户资金与关联的帮扶措施，列出不一致的项目和农户。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", help="只核对该区划（代码）内的项目")
        parser.add_argument("--year", type=int, help="只核对该年度的项目")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = Project.objects.select_related("region").order_by("region__code", "code", "pk")
        if options["region"]:
            projects = projects.filter(region__path__contains=f"/{options['region']}/")
        if options["year"]:
            projects = projects.filter(year=options["year"])
        total = projects.count()
        found = projects_with_differences(projects.iterator())
        for result in found:
            project = result.project
            self.stdout.write(
                f"{project.code or project.pk} {project.name}（{project.region.name}）："
                f"关联措施{result.measures}项 {result.measure_amount}元，"
                f"到户支出{result.moved_amount}元，受益户{result.beneficiaries}户"
            )
            for line in result.lines:
                self.stdout.write(
                    f"  {line.household.number}：措施{line.measures}项 {line.measure_amount}元，"
                    f"到户支出{line.moved_amount}元 — {'、'.join(line.problem_labels)}"
                )
        self.stdout.write(f"核对{total}个项目，{len(found)}个不一致。")
        if found:
            raise CommandError(f"{len(found)}个项目的受益户、到户资金与关联措施不一致。")
