"""The county's year: the models of its rollover and its year-end sign-off (issue 16)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from povertyapp.models import Region, VillageYear


class YearRollover(models.Model):
    """One yearly rollover (年度切换) of a county that changed something: what it did (`done`,
    the steps' reports) is kept with who did it and when. A rollover that found everything
    already done writes no row."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="rollovers"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    performed_at = models.DateTimeField(_("操作时间"))
    done = models.JSONField(_("办理内容"), default=list)

    class Meta:
        verbose_name = _("年度切换")
        verbose_name_plural = _("年度切换")
        ordering = ["county", "-year", "-performed_at"]

    def __str__(self) -> str:
        return f"{self.county} {self.year}"


class CarriedVillageYear(models.Model):
    """A village's year row that a rollover copied from the year before (结转): its population
    is last year's until the village-year import replaces it. It stays flagged while the row
    still holds the copied figures (`still_carried`)."""

    village_year = models.OneToOneField(
        VillageYear,
        verbose_name=_("村年度信息"),
        on_delete=models.CASCADE,
        related_name="carried",
    )
    rollover = models.ForeignKey(
        YearRollover,
        verbose_name=_("年度切换"),
        on_delete=models.CASCADE,
        related_name="carried_village_years",
    )
    from_year = models.PositiveSmallIntegerField(_("结转自年度"))
    registered_rural_population = models.PositiveIntegerField(_("结转的户籍农业人口"))
    total_households = models.PositiveIntegerField(_("结转的总户数"))

    class Meta:
        verbose_name = _("结转的村年度信息")
        verbose_name_plural = _("结转的村年度信息")
        ordering = ["village_year__village__code"]

    def __str__(self) -> str:
        return f"{self.village_year} ← {self.from_year}"
