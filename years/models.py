"""The county's year: the models of its rollover and its year-end sign-off (issue 16)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from households.models import YEAR_VALIDATORS, Household, Member
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


class SignOff(models.Model):
    """One region's sign-off of one year (年度签署): the village submits its registry, the
    township signs when all its villages submitted, the county signs when all its townships
    signed, which locks the year (`povertyapp.yearlock`). Rows are made when a level first
    acts; a region without a row is still pending. Every change is a `SignOffEvent`."""

    class Level(models.TextChoices):
        VILLAGE = "village", _("行政村")
        TOWNSHIP = "township", _("乡镇")
        COUNTY = "county", _("县")

    class State(models.TextChoices):
        PENDING = "pending", _("未提交")
        SUBMITTED = "submitted", _("已提交")
        SIGNED = "signed", _("已签署")
        RETURNED = "returned", _("已退回")
        REOPENED = "reopened", _("已重新开启")

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="sign_offs"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices)
    state = models.CharField(
        _("签署状态"), max_length=12, choices=State.choices, default=State.PENDING
    )
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acted_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    reason = models.CharField(_("退回或重新开启理由"), max_length=500, blank=True)
    explanation = models.CharField(_("未清事项说明"), max_length=500, blank=True)
    figures = models.JSONField(
        _("定稿指标"),
        default=list,
        blank=True,
        help_text=_("县级签署时复制的本年度动态调整批次指标快照。"),
    )

    class Meta:
        verbose_name = _("年度签署")
        verbose_name_plural = _("年度签署")
        ordering = ["year", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="sign_off_one_per_region_year")
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.get_state_display()}"

    @property
    def is_done(self) -> bool:
        """Submitted (a village) or signed (a township, the county)."""
        return self.state in (self.State.SUBMITTED, self.State.SIGNED)


class SignOffEvent(models.Model):
    """One step of a sign-off (submit, sign, return, reopen): who, when, why, what was open."""

    class Action(models.TextChoices):
        SUBMIT = "submit", _("提交")
        SIGN = "sign", _("签署")
        RETURN = "return", _("退回")
        REOPEN = "reopen", _("重新开启")

    sign_off = models.ForeignKey(
        SignOff, verbose_name=_("年度签署"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    from_state = models.CharField(_("原状态"), max_length=12, choices=SignOff.State.choices)
    to_state = models.CharField(_("新状态"), max_length=12, choices=SignOff.State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    reason = models.CharField(_("理由或说明"), max_length=500, blank=True)
    open_items = models.JSONField(_("当时未清事项"), default=dict, blank=True)

    class Meta:
        verbose_name = _("年度签署记录")
        verbose_name_plural = _("年度签署记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.sign_off} {self.get_action_display()}"


class EditReview(models.Model):
    """An edit of a household whose status a closed round decided (审定后修改), flagged for
    the township to review, as DHIS2 flags changes to approved data. Written from the
    registry's history (`years.signoff.flag_edit_after_approval`), never by the editor."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    round = models.ForeignKey(
        "rounds.AdjustmentRound",
        verbose_name=_("审定批次"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.CharField(_("修改对象"), max_length=64)
    changes = models.JSONField(_("修改内容"), default=list)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("修改时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审定后修改")
        verbose_name_plural = _("审定后修改")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["village", "reviewed_at"], name="edit_review_village_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.changed_at:%Y-%m-%d}"

    @property
    def changes_shown(self) -> list[dict[str, Any]]:
        """The changes in the reader's language (issue 17): the field's name was stored as its
        Chinese verbose name (a msgid), a fixed list's value is shown through its label."""
        shown = []
        for change in self.changes:
            labels: dict[Any, Any] = {}
            for model in (Household, Member):
                try:
                    field = model._meta.get_field(change.get("field", ""))
                except FieldDoesNotExist:
                    continue
                choices = (
                    getattr(field, "flatchoices", None) if getattr(field, "choices", None) else None
                )
                labels = {str(key): value for key, value in choices or []}
                break
            shown.append(
                {
                    **change,
                    "label": gettext(change.get("label", "")),
                    "old": labels.get(change.get("old"), change.get("old")),
                    "new": labels.get(change.get("new"), change.get("new")),
                }
            )
        return shown
