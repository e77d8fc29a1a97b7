"""The monitoring configuration the county office keeps (业务配置): the monitoring lines, the
农村低保 standards, the local rules and 帮扶 by risk type."""

from __future__ import annotations

from django.contrib import admin

from monitoring.models import DibaoStandard, LocalRules, MonitoringLine, RiskMeasureRule
from povertyapp.admin import ConfigAdmin


@admin.register(MonitoringLine)
class MonitoringLineAdmin(ConfigAdmin):
    list_display = ["year", "region", "kind", "amount", "multiple", "basis"]
    list_filter = ["kind", "year"]


@admin.register(DibaoStandard)
class DibaoStandardAdmin(ConfigAdmin):
    list_display = ["year", "region", "amount"]
    list_filter = ["year"]


@admin.register(LocalRules)
class LocalRulesAdmin(ConfigAdmin):
    list_display = [
        "region",
        "identify_days",
        "identify_in_working_days",
        "notice_days",
        "measure_start_days",
        "stable_months",
    ]


@admin.register(RiskMeasureRule)
class RiskMeasureRuleAdmin(ConfigAdmin):
    list_display = ["risk_type", "measure_category", "active", "note"]
    list_filter = ["risk_type", "active"]
