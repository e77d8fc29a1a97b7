"""Assistance (帮扶): pairing of households with their helpers (帮扶责任人)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Pairing(models.Model):
    """结对帮扶: a household's 帮扶责任人 from one date to another. A change adds a new line."""

    household = models.ForeignKey(
        "households.Household", verbose_name=_("户"), on_delete=models.PROTECT,
        related_name="pairings",
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("帮扶责任人账号"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="pairings",
    )
    name = models.CharField(_("帮扶责任人"), max_length=32)
    unit = models.CharField(_("工作单位"), max_length=64, blank=True)
    post = models.CharField(_("职务"), max_length=32, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    start_date = models.DateField(_("帮扶开始日期"))
    end_date = models.DateField(_("帮扶结束日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["household", "-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(end_date__isnull=True),
                name="pairing_one_current_per_household",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="pairing_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["helper", "end_date"], name="pairing_helper_idx")]

    def __str__(self) -> str:
        return f"{self.household} ← {self.name}"
