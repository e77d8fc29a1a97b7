"""Writes of the assessment side: campaigns, the draw, findings, correction tasks, rectification.

Every function is keyword-only, atomic, validates everything before writing, raises
`ValidationError` with a code and a Chinese message, and writes an `InspectionEvent` in the same
transaction. Access is checked here too (views also check, for the 403/404 split), so importers,
API views and jobs cannot bypass it.
"""

from __future__ import annotations

import datetime
import secrets
from collections import defaultdict
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household, Member
from inspections import notes as draw_notes
from inspections import selectors
from inspections.events import event_record
from inspections.models import (
    REGISTERED_KINDS,
    Campaign,
    CorrectionTask,
    Finding,
    InspectionEvent,
    RectificationEvidence,
    RectificationItem,
    SampleHousehold,
    SampleKind,
    SampleVillage,
)
from inspections.sampling import FrameVillage, Protocol, plan_draw
from povertyapp import audit, regions, roles, uploads
from povertyapp.conflicts import ConflictError
from povertyapp.models import Region, User, VillageYear

Kind = InspectionEvent.Kind


def _raise(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


def _check_version(instance: Any, expected_version: int | None) -> None:
    if expected_version is not None and instance.version != expected_version:
        raise ConflictError([{"label": str(instance._meta.verbose_name), "who": _("他人")}])


# --- campaigns ----------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    county: Region,
    name: str,
    kind: str,
    year: int,
    visit_date: datetime.date,
    end_date: datetime.date,
    assessors: list[User],
    townships_to_draw: int = 3,
    villages_per_township: int = 3,
    households_per_village: int = 43,
    inside_share: Decimal = Decimal("0.50"),
    registered_kinds: list[str] | None = None,
) -> Campaign:
    if not (
        roles.has_case_access(actor)
        and actor.role == User.Role.COUNTY_OFFICER
        and roles.region_in_scope(actor, county)
    ):
        raise PermissionDenied(_("只有本县扶贫办可以发起考核评估。"))
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if county.level != Region.Level.COUNTY:
        errors["county"].append(ValidationError(_("考核评估须针对一个县。"), code="not_county"))
    kinds = list(registered_kinds or [k.value for k in REGISTERED_KINDS])
    if not kinds or any(k not in {r.value for r in REGISTERED_KINDS} for k in kinds):
        errors["registered_kinds"].append(
            ValidationError(
                _("覆盖的建档立卡户类型须为未脱贫户、拟脱贫户、已脱贫户中的一种或几种。"),
                code="bad_kinds",
            )
        )
    for assessor in assessors:
        if assessor.role != User.Role.AUDITOR or not assessor.is_active:
            errors["assessors"].append(
                ValidationError(
                    _("%(name)s不是评估人员（须为评估/审计员角色）。") % {"name": assessor},
                    code="not_auditor",
                )
            )
    if end_date < visit_date:
        errors["end_date"].append(
            ValidationError(_("结束日期不能早于入户日期。"), code="end_before_visit")
        )
    _raise(errors)
    campaign = Campaign(
        county=county,
        name=name,
        kind=kind,
        year=year,
        visit_date=visit_date,
        end_date=end_date,
        launched_by=actor,
        townships_to_draw=townships_to_draw,
        villages_per_township=villages_per_township,
        households_per_village=households_per_village,
        inside_share=inside_share,
        registered_kinds=kinds,
    )
    campaign.full_clean()
    campaign.save()
    campaign.assessors.set(assessors)
    event_record(
        kind=Kind.CAMPAIGN_CREATED,
        actor=actor,
        campaign=campaign,
        to_status=campaign.status,
        data={"assessors": [a.pk for a in assessors]},
    )
    return campaign


def _kind_of(status: str, planned_exit_year: int | None, year: int) -> str | None:
    if status in (Household.Status.POOR, Household.Status.RETURNED):
        return SampleKind.PRE_EXIT if planned_exit_year == year else SampleKind.UNEXITED
    if status == Household.Status.EXITED:
        return SampleKind.EXITED
    if status == Household.Status.NON_REGISTERED:
        return SampleKind.NON_REGISTERED
    return None  # 剔除: outside both sides of the frame


def _village_years(year: int, village_ids: list[int]) -> dict[int, VillageYear]:
    """Each village's year row for the campaign year (or its latest earlier one)."""
    rows: dict[int, VillageYear] = {}
    for row in VillageYear.objects.filter(village_id__in=village_ids, year__lte=year).order_by(
        "village_id", "year"
    ):
        rows[row.village_id] = row
    return rows


def region_frames(*, county: Region, year: int) -> dict[str, Any]:
    """Persons by status per village of the county (one grouped aggregate), rolled up to
    townships and the county: what 综合贫困发生率 needs, frozen at the draw."""
    villages = list(Region.objects.filter(level=Region.Level.VILLAGE, path__startswith=county.path))
    village_years = _village_years(year, [v.pk for v in villages])
    frames: dict[str, dict[str, int]] = {}

    def slot(key: str) -> dict[str, int]:
        return frames.setdefault(
            key,
            {
                "rural_population": 0,
                "registered_persons": 0,
                "poor_persons": 0,
                "exited_persons": 0,
            },
        )

    parent_of = {v.pk: v.parent_id for v in villages}
    for village in villages:
        population = (
            village_years[village.pk].registered_rural_population
            if village.pk in village_years
            else 0
        )
        for key in (f"v{village.pk}", f"t{village.parent_id}", "county"):
            slot(key)["rural_population"] += population
    persons = (
        Member.objects.filter(is_active=True, household__village_id__in=list(parent_of))
        .order_by()
        .values("household__village_id", "household__status")
        .annotate(n=Count("id"))
    )
    for row in persons:
        village_id, status, count = row["household__village_id"], row["household__status"], row["n"]
        for key in (f"v{village_id}", f"t{parent_of.get(village_id)}", "county"):
            target = slot(key)
            if status in Household.REGISTERED_STATUSES:
                target["registered_persons"] += count
            if status in Household.POOR_STATUSES:
                target["poor_persons"] += count
            if status == Household.Status.EXITED:
                target["exited_persons"] += count
    for values in frames.values():
        values["non_registered_population"] = max(
            values["rural_population"] - values["registered_persons"], 0
        )
    return frames


@transaction.atomic
def campaign_draw(*, actor: User, campaign: Campaign, seed: int | None = None) -> Campaign:
    """Draw and store the sample. The seed is recorded; the same seed over the same registry
    gives the same sample."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not selectors.can_manage_campaign(actor, campaign):
        raise PermissionDenied(_("只有发起人或本县扶贫办可以抽样。"))
    if campaign.status != Campaign.Status.PLANNED:
        raise ValidationError(_("该考核评估已抽样，不能重复抽样。"), code="already_drawn")
    if seed is None:
        seed = secrets.randbelow(2**31)
    if not 0 <= seed < 2**63:
        raise ValidationError(_("随机种子须为非负整数。"), code="bad_seed")
    county = campaign.county
    townships = dict(
        Region.objects.filter(parent=county, level=Region.Level.TOWNSHIP).values_list("pk", "name")
    )
    # EXISTS per village (index on household.village_id), not a DISTINCT over every household.
    village_rows = list(
        Region.objects.filter(parent_id__in=list(townships), level=Region.Level.VILLAGE)
        .filter(Exists(Household.objects.filter(village=OuterRef("pk"))))
        .order_by("code")
    )
    years = _village_years(campaign.year, [v.pk for v in village_rows])
    frame_villages = [
        FrameVillage(
            id=v.pk,
            name=v.name,
            township_id=cast(int, v.parent_id),  # filtered on parent_id__in above
            condition=years[v.pk].condition if v.pk in years else VillageYear.Condition.MEDIUM,
        )
        for v in village_rows
    ]
    unclassed = [v.name for v in village_rows if v.pk not in years]

    def load_households(chosen: list[FrameVillage]) -> None:
        by_id = {v.id: v for v in chosen}
        rows = (
            Household.objects.filter(village_id__in=list(by_id))
            .order_by()
            .annotate(persons=Count("members", filter=Q(members__is_active=True)))
            .values_list("id", "village_id", "status", "planned_exit_year", "persons")
        )
        for household_id, village_id, status, planned, persons in rows:
            kind = _kind_of(status, planned, campaign.year)
            if kind is not None:
                by_id[village_id].households.setdefault(kind, []).append((household_id, persons))
        for village in chosen:
            # Non-registered households are only partly on file: weight them by the village's
            # households not in the registry (总户数 − registered households) when larger.
            year_row = years.get(village.id)
            on_file = village.households.get(SampleKind.NON_REGISTERED, [])
            registered = sum(len(village.households.get(k, [])) for k in REGISTERED_KINDS)
            persons_on_file = sum(p for _id, p in on_file)
            households_total = max(
                len(on_file), (year_row.total_households - registered) if year_row else 0
            )
            registered_persons = sum(
                p for k in REGISTERED_KINDS for _id, p in village.households.get(k, [])
            )
            persons_total = max(
                persons_on_file,
                (year_row.registered_rural_population - registered_persons) if year_row else 0,
            )
            village.population[SampleKind.NON_REGISTERED] = (households_total, persons_total)

    protocol = Protocol(
        townships=campaign.townships_to_draw,
        villages_per_township=campaign.villages_per_township,
        households_per_village=campaign.households_per_village,
        inside_share=campaign.inside_share,
        registered_kinds=tuple(campaign.registered_kinds),
    )
    draw = plan_draw(
        seed=seed,
        protocol=protocol,
        townships=townships,
        villages=frame_villages,
        load_households=load_households,
    )
    if not draw.villages:
        raise ValidationError(_("该县没有可抽取的村（无农户数据）。"), code="empty_frame")
    households = Household.objects.in_bulk(
        [household_id for dv in draw.villages for household_id, _kind in dv.households]
    )
    heads = dict(
        Member.objects.filter(
            household_id__in=list(households), relation="户主", is_active=True
        ).values_list("household_id", "name")
    )
    persons_by_household = {
        household_id: persons
        for dv in draw.villages
        for rows in dv.village.households.values()
        for household_id, persons in rows
    }
    rows: list[SampleHousehold] = []
    for dv in draw.villages:
        village = dv.village
        kinds = [*REGISTERED_KINDS, SampleKind.NON_REGISTERED]
        sample_village = SampleVillage.objects.create(
            campaign=campaign,
            village_id=village.id,
            township_id=village.township_id,
            position=dv.position,
            stratum_class=dv.stratum_class,
            actual_class=village.condition,
            village_probability=dv.village_probability,
            township_probability=dv.township_probability,
            frame_households={k.value: village.population_of(k)[0] for k in kinds},
            frame_persons={k.value: village.population_of(k)[1] for k in kinds},
            notes=dv.notes,
        )
        for position, (household_id, kind) in enumerate(dv.households, start=1):
            household = households[household_id]
            rows.append(
                SampleHousehold(
                    campaign=campaign,
                    sample_village=sample_village,
                    household=household,
                    kind=kind,
                    position=position,
                    number=household.number,
                    head_name=heads.get(household_id, ""),
                    persons=persons_by_household[household_id],
                    status_at_draw=household.status,
                )
            )
    SampleHousehold.objects.bulk_create(rows)
    notes = list(draw.notes)
    if unclassed:
        notes.append(draw_notes.note(draw_notes.UNCLASSED, names=sorted(unclassed)))
    campaign.seed = seed
    campaign.status = Campaign.Status.DRAWN
    campaign.drawn_at = timezone.now()
    campaign.drawn_by = actor
    campaign.draw_notes = notes
    campaign.frame = region_frames(county=county, year=campaign.year)
    campaign.version += 1
    campaign.save(
        update_fields=["seed", "status", "drawn_at", "drawn_by", "draw_notes", "frame", "version"]
    )
    event_record(
        kind=Kind.SAMPLE_DRAWN,
        actor=actor,
        campaign=campaign,
        from_status=Campaign.Status.PLANNED,
        to_status=campaign.status,
        data={"seed": seed, "villages": len(draw.villages), "households": len(rows)},
    )
    return campaign


@transaction.atomic
def sample_household_add(
    *,
    actor: User,
    campaign: Campaign,
    sample_village: SampleVillage,
    head_name: str,
    persons: int,
    address: str = "",
    household: Household | None = None,
) -> SampleHousehold:
    """A non-registered household the assessors met on the spot (现场增补)."""
    if not selectors.can_record_findings(actor, campaign):
        raise PermissionDenied(_("只有本次评估的评估人员可以在入户期间增补样本户。"))
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if sample_village.campaign_id != campaign.pk:
        errors["sample_village"].append(
            ValidationError(_("样本村不属于该评估。"), code="bad_village")
        )
    if not head_name.strip():
        errors["head_name"].append(ValidationError(_("请填写户主姓名。"), code="required"))
    if not 1 <= persons <= 30:
        errors["persons"].append(ValidationError(_("家庭人口应在1至30之间。"), code="bad_persons"))
    if household is not None:
        if household.village_id != sample_village.village_id:
            errors["household"].append(
                ValidationError(_("该户不在此样本村。"), code="other_village")
            )
        elif household.status != Household.Status.NON_REGISTERED:
            errors["household"].append(
                ValidationError(_("现场增补的须是非建档立卡户。"), code="registered")
            )
        elif SampleHousehold.objects.filter(campaign=campaign, household=household).exists():
            errors["household"].append(ValidationError(_("该户已在样本中。"), code="duplicate"))
    _raise(errors)
    last = sample_village.households.order_by("-position").values_list("position", flat=True)
    sample = SampleHousehold(
        campaign=campaign,
        sample_village=sample_village,
        household=household,
        kind=SampleKind.NON_REGISTERED,
        position=(last.first() or 0) + 1,
        number=household.number if household else "",
        head_name=head_name.strip(),
        persons=persons,
        status_at_draw=household.status if household else "",
        added_on_site=True,
        address=address.strip(),
    )
    sample.full_clean()
    sample.save()
    event_record(
        kind=Kind.SAMPLE_ADDED,
        actor=actor,
        campaign=campaign,
        data={"sample": sample.pk, "head_name": sample.head_name},
    )
    return sample


# --- findings -----------------------------------------------------------------------------------

FINDING_FIELDS = (
    "stated_per_capita_income",
    "verified_per_capita_income",
    "food_secure",
    "clothing_secure",
    "education_secure",
    "medical_secure",
    "housing_secure",
    "water_secure",
    "eligible",
    "result",
    "omission_scope",
    "error_persons",
    "approval",
    "disapproval_reason",
    "notes",
)
# Which results a kind of household can have: 错评 for registered, 错退 for exited,
# 漏评 for a non-registered household (whole) or a member left out of any household.
RESULTS_BY_KIND = {
    SampleKind.UNEXITED: {"正常", "错评", "漏评"},
    SampleKind.PRE_EXIT: {"正常", "错评", "漏评"},
    SampleKind.EXITED: {"正常", "错评", "错退", "漏评"},
    SampleKind.NON_REGISTERED: {"正常", "漏评"},
}


def finding_errors(
    sample: SampleHousehold,
    data: dict[str, Any],
    *,
    confirm: bool,
) -> dict[str, list[ValidationError]]:
    """Every rule a finding must satisfy (to save a draft only the shape; to confirm, all)."""
    errors: dict[str, list[ValidationError]] = defaultdict(list)

    def add(field: str, message: str, code: str) -> None:
        errors[field].append(ValidationError(message, code=code))

    result = data.get("result") or ""
    for field in ("stated_per_capita_income", "verified_per_capita_income"):
        value = data.get(field)
        if value is not None and (value < 0 or value > Decimal("1000000")):
            add(field, _("人均纯收入应在0至1000000元之间。"), "bad_income")
    if result and result not in RESULTS_BY_KIND[SampleKind(sample.kind)]:
        add(
            "result",
            _("“%(kind)s”不能认定为“%(result)s”。")
            % {"kind": SampleKind(sample.kind).label, "result": result},
            "bad_result",
        )
    scope = data.get("omission_scope") or ""
    persons = data.get("error_persons") or 0
    if persons < 0 or persons > 30:
        add("error_persons", _("涉及人数应在0至30之间。"), "bad_persons")
    if result != "漏评" and scope:
        add("omission_scope", _("只有漏评才填写漏评范围。"), "scope_without_omission")
    if result == "漏评" and sample.kind != SampleKind.NON_REGISTERED and scope == "household":
        add("omission_scope", _("建档立卡户只能认定成员漏评。"), "registered_whole_omission")
    if data.get("approval") == "不认可" and not (data.get("disapproval_reason") or "").strip():
        add("disapproval_reason", _("不认可须填写原因。"), "reason_required")
    if not confirm:
        return errors
    if not result:
        add("result", _("确认前须填写核查结论。"), "required")
    if not data.get("approval"):
        add("approval", _("确认前须填写是否认可。"), "required")
    if data.get("verified_per_capita_income") is None:
        add("verified_per_capita_income", _("确认前须填写核实人均纯收入。"), "required")
    for field in (
        "food_secure",
        "clothing_secure",
        "education_secure",
        "medical_secure",
        "housing_secure",
        "water_secure",
    ):
        if data.get(field) is None:
            add(field, _("确认前须逐项核查两不愁三保障。"), "required")
    if result == "漏评" and not scope:
        add("omission_scope", _("漏评须说明是整户漏评还是成员漏评。"), "required")
    if result == "漏评" and scope == "member" and persons < 1:
        add("error_persons", _("成员漏评须填写漏评人数。"), "required")
    if result in ("错评", "漏评") and data.get("eligible") is None:
        add("eligible", _("须填写是否符合建档立卡标准。"), "required")
    if result == "错评" and data.get("eligible") is True:
        add("eligible", _("认定错评的户应为不符合标准。"), "contradiction")
    if result == "漏评" and data.get("eligible") is False:
        add("eligible", _("认定漏评的户应为符合标准。"), "contradiction")
    return errors


def _normalise(sample: SampleHousehold, data: dict[str, Any]) -> dict[str, Any]:
    values = {field: data.get(field) for field in FINDING_FIELDS}
    for field in ("result", "omission_scope", "approval", "disapproval_reason", "notes"):
        values[field] = (values[field] or "").strip()
    result = values["result"]
    if result in ("错评", "错退") or (result == "漏评" and values["omission_scope"] == "household"):
        values["error_persons"] = sample.persons
    elif result != "漏评":
        values["error_persons"] = 0
    values["error_persons"] = values["error_persons"] or 0
    return values


@transaction.atomic
def finding_save(
    *,
    actor: User,
    sample: SampleHousehold,
    data: dict[str, Any],
    confirm: bool = False,
    expected_version: int | None = None,
) -> Finding:
    """Save a draft (partial answers allowed) or confirm a finding. Confirming a 错评, 漏评 or
    错退 opens a correction task for the owning village and a rectification item."""
    campaign = sample.campaign
    if not selectors.can_record_findings(actor, campaign):
        raise PermissionDenied(_("只有本次评估的评估人员可以在评估期间录入核查结果。"))
    finding = Finding.objects.select_for_update().filter(sample=sample).first()
    if finding is not None:
        _check_version(finding, expected_version)
        if finding.status == Finding.Status.CONFIRMED:
            raise ValidationError(_("该户核查结果已确认，不能再修改。"), code="confirmed")
    values = _normalise(sample, data)
    _raise(finding_errors(sample, values, confirm=confirm))
    created = finding is None
    if finding is None:
        finding = Finding(sample=sample, recorded_by=actor)
    elif not confirm and all(getattr(finding, field) == value for field, value in values.items()):
        # A draft saved unchanged: no new version and no event.
        return finding
    for field, value in values.items():
        setattr(finding, field, value)
    finding.recorded_by = actor
    if not created:
        finding.version += 1
    if confirm:
        finding.status = Finding.Status.CONFIRMED
        finding.confirmed_by = actor
        finding.confirmed_at = timezone.now()
    finding.full_clean()
    finding.save()
    event_record(
        kind=Kind.FINDING_CONFIRMED if confirm else Kind.FINDING_SAVED,
        actor=actor,
        campaign=campaign,
        finding=finding,
        from_status="" if created else Finding.Status.DRAFT,
        to_status=finding.status,
        data={"result": finding.result, "approval": finding.approval},
    )
    if confirm:
        _audit_approval(actor, "finding", finding.pk, _("确认核查结果"), result=finding.result)
    if confirm and finding.result in Finding.ERROR_RESULTS:
        _open_correction(actor=actor, finding=finding)
    return finding


CORRECTION_KIND = {
    "错评": CorrectionTask.Kind.REMOVE,
    "漏评": CorrectionTask.Kind.IDENTIFY,
    "错退": CorrectionTask.Kind.RETURN,
}
CATEGORY = {
    "错评": gettext_lazy("错评（应剔除）"),
    "漏评": gettext_lazy("漏评（应纳入）"),
    "错退": gettext_lazy("错退（应返贫）"),
}


def _open_correction(*, actor: User, finding: Finding) -> None:
    sample = finding.sample
    village = sample.sample_village.village
    kind = CORRECTION_KIND[finding.result]
    if finding.result == "漏评" and finding.omission_scope == "member":
        description = _("成员漏评%(n)d人，须补录成员并按程序纳入") % {"n": finding.error_persons}
    else:
        description = str(CorrectionTask.Kind(kind).label)
    task = CorrectionTask.objects.create(
        finding=finding,
        village=village,
        household=sample.household,
        kind=kind,
        persons=finding.error_persons,
    )
    event_record(
        kind=Kind.TASK_CREATED,
        actor=actor,
        campaign=sample.campaign,
        finding=finding,
        task=task,
        to_status=task.status,
        note=description,
    )
    campaign = sample.campaign
    problem = _(
        "%(campaign)s核查发现：%(village)s%(head)s户（%(number)s）%(result)s，涉及%(n)d人。"
        "%(notes)s"
    ) % {
        "campaign": campaign.name,
        "village": village.name,
        "head": sample.head_name,
        "number": sample.number or _("未建档"),
        "result": finding.result,
        "n": finding.error_persons,
        "notes": finding.notes,
    }
    item = RectificationItem.objects.create(
        region=village,
        campaign=campaign,
        finding=finding,
        source=RectificationItem.Source.FINDING,
        problem=problem[:500],
        category=str(CATEGORY[finding.result]),
        responsible_unit=_("%(township)s人民政府")
        % {"township": sample.sample_village.township.name},
        responsible_person=_("%(village)s村两委") % {"village": village.name},
        deadline=max(campaign.end_date, timezone.localdate()) + datetime.timedelta(days=30),
        created_by=actor,
    )
    event_record(
        kind=Kind.ITEM_CREATED,
        actor=actor,
        campaign=campaign,
        finding=finding,
        item=item,
        to_status=item.status,
    )


@transaction.atomic
def _audit_approval(actor: User, target: str, object_id: int, reason: Any, **detail: Any) -> None:
    """安全审计: a confirmed finding, a finished campaign, a resolved correction task and every
    整改 status decision is one audit row, in the decision's transaction."""
    audit.record(
        "approval",
        user=actor,
        target=f"inspection:{target}",
        object_id=object_id,
        reason=str(reason)[:255],
        detail=detail,
    )


def campaign_finish_blocker(campaign: Campaign) -> str | None:
    """Why a drawn campaign cannot be finished yet (sampled households whose finding is not
    confirmed, by village), or None: `campaign_finish` refuses with it, and the campaign's page
    shows it in place of the button."""
    pending = (
        campaign.households.exclude(finding__status=Finding.Status.CONFIRMED)
        .values("sample_village__village__name", "sample_village__position")
        .annotate(count=Count("pk"))
        .order_by("sample_village__position")
    )
    counts = [(row["sample_village__village__name"], row["count"]) for row in pending]
    if not counts:
        return None
    total = sum(count for _name, count in counts)
    places = regions.households_by_village(counts)
    return _("还有%(total)s户的核查结果未确认（%(places)s），全部确认后才能完成评估。") % {
        "total": total,
        "places": places,
    }


@transaction.atomic
def campaign_finish(*, actor: User, campaign: Campaign) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not (
        selectors.can_manage_campaign(actor, campaign) or selectors.is_assessor(actor, campaign)
    ):
        raise PermissionDenied(_("只有评估组或发起人可以完成评估。"))
    if campaign.status != Campaign.Status.DRAWN:
        raise ValidationError(_("只有已抽样、正在入户的评估可以完成。"), code="not_drawn")
    blocker = campaign_finish_blocker(campaign)
    if blocker:
        raise ValidationError(blocker, code="findings_missing")
    campaign.status = Campaign.Status.FINISHED
    campaign.finished_at = timezone.now()
    campaign.version += 1
    campaign.save(update_fields=["status", "finished_at", "version"])
    event_record(
        kind=Kind.CAMPAIGN_FINISHED,
        actor=actor,
        campaign=campaign,
        from_status=Campaign.Status.DRAWN,
        to_status=campaign.status,
    )
    _audit_approval(actor, "campaign", campaign.pk, _("完成评估"))
    return campaign


# --- correction tasks -----------------------------------------------------------------------------

# Keyed by the stored task kind (a plain str on a loaded row).
TARGET_STATUS: dict[str, tuple[str, ...]] = {
    CorrectionTask.Kind.REMOVE: (Household.Status.REMOVED,),
    CorrectionTask.Kind.IDENTIFY: Household.REGISTERED_STATUSES,
    CorrectionTask.Kind.RETURN: (Household.Status.RETURNED,),
}


def task_not_corrected(task: CorrectionTask, household: Household | None = None) -> str | None:
    """Why the task cannot be closed yet: the registry still shows `household` (the task's
    own by default) in a status the correction leaves (剔除 not yet done, say), or None. The
    task list shows it in place of the button; `correction_task_resolve` refuses with it."""
    target = household or task.household
    if target is None or target.status in TARGET_STATUS[task.kind]:
        return None
    if task.kind == CorrectionTask.Kind.IDENTIFY and task.finding.omission_scope == "member":
        return None
    return _("档案中该户仍为“%(status)s”，请先按程序办理“%(kind)s”后再销号。") % {
        "status": target.get_status_display(),
        "kind": task.get_kind_display(),
    }


@transaction.atomic
def correction_task_resolve(
    *, actor: User, task: CorrectionTask, note: str = "", household: Household | None = None
) -> CorrectionTask:
    """Mark a task done once the registry shows the correction (made through the normal
    剔除 / 新识别纳入 / 返贫 procedures). For an omitted household found on the spot, `household`
    is the record the village created for it."""
    task = CorrectionTask.objects.select_for_update().get(pk=task.pk)
    if not (roles.can_write_households(actor) and roles.region_in_scope(actor, task.village)):
        raise PermissionDenied(_("只有本村或县扶贫办可以处理纠错任务。"))
    if task.status != CorrectionTask.Status.OPEN:
        raise ValidationError(_("该纠错任务已处理。"), code="resolved")
    target = household or task.household
    member_omission = (
        task.kind == CorrectionTask.Kind.IDENTIFY and task.finding.omission_scope == "member"
    )
    if target is None:
        raise ValidationError(_("请指明为该漏评户建立的档案。"), code="household_required")
    if target.village_id != task.village_id:
        raise ValidationError(_("该户不在责任村。"), code="other_village")
    if member_omission:
        if not note.strip():
            raise ValidationError(_("成员漏评须说明补录情况。"), code="note_required")
    elif (not_corrected := task_not_corrected(task, target)) is not None:
        raise ValidationError(not_corrected, code="not_corrected")
    task.status = CorrectionTask.Status.RESOLVED
    task.household = target
    task.resolved_by = actor
    task.resolved_at = timezone.now()
    task.resolution = note.strip()[:200]
    task.save(update_fields=["status", "household", "resolved_by", "resolved_at", "resolution"])
    event_record(
        kind=Kind.TASK_RESOLVED,
        actor=actor,
        campaign=task.finding.sample.campaign,
        task=task,
        from_status=CorrectionTask.Status.OPEN,
        to_status=task.status,
        note=task.resolution,
    )
    _audit_approval(actor, "correction_task", task.pk, _("纠错任务销号"), household=target.pk)
    return task


# --- rectification ------------------------------------------------------------------------------

ITEM_FIELDS = (
    "problem",
    "category",
    "responsible_unit",
    "responsible_person",
    "deadline",
    "measures",
)


def _item_errors(data: dict[str, Any]) -> dict[str, list[ValidationError]]:
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for field, label in (
        ("problem", _("问题描述")),
        ("category", _("问题类别")),
        ("responsible_unit", _("责任单位")),
        ("responsible_person", _("责任人")),
    ):
        if not (data.get(field) or "").strip():
            errors[field].append(
                ValidationError(_("请填写%(label)s。") % {"label": label}, code="required")
            )
    if not isinstance(data.get("deadline"), datetime.date):
        errors["deadline"].append(ValidationError(_("请填写整改时限。"), code="required"))
    return errors


@transaction.atomic
def rectification_create(
    *,
    actor: User,
    region: Region,
    data: dict[str, Any],
    source: str = "county",
    campaign: Campaign | None = None,
) -> RectificationItem:
    county_officer = (
        roles.has_case_access(actor)
        and actor.role == User.Role.COUNTY_OFFICER
        and roles.region_in_scope(actor, region)
    )
    assessor = (
        campaign is not None
        and selectors.is_assessor(actor, campaign)
        and campaign.county.contains(region)
    )
    if not (county_officer or assessor):
        raise PermissionDenied(_("只有县扶贫办或本次督查人员可以录入整改事项。"))
    errors = _item_errors(data)
    if source not in (RectificationItem.Source.SUPERVISION, RectificationItem.Source.COUNTY):
        errors["source"].append(ValidationError(_("问题来源不正确。"), code="bad_source"))
    _raise(errors)
    item = RectificationItem(
        region=region,
        campaign=campaign,
        source=source,
        created_by=actor,
        **{f: data.get(f) or "" for f in ITEM_FIELDS if f != "deadline"},
        deadline=data["deadline"],
    )
    item.full_clean()
    item.save()
    event_record(
        kind=Kind.ITEM_CREATED, actor=actor, campaign=campaign, item=item, to_status=item.status
    )
    return item


@transaction.atomic
def rectification_update(
    *, actor: User, item: RectificationItem, data: dict[str, Any], expected_version: int | None
) -> RectificationItem:
    """Edit the measures (anyone who may edit) or the item itself (the county office)."""
    item = RectificationItem.objects.select_for_update().get(pk=item.pk)
    _check_version(item, expected_version)
    if not (selectors.can_edit_rectification(actor) and roles.region_in_scope(actor, item.region)):
        raise PermissionDenied(_("您不能修改该整改事项。"))
    if item.status == RectificationItem.Status.CLOSED:
        raise ValidationError(_("已销号的事项不能修改。"), code="closed")
    allowed = ITEM_FIELDS if actor.role == User.Role.COUNTY_OFFICER else ("measures",)
    changed = {f: data[f] for f in allowed if f in data and data[f] != getattr(item, f)}
    merged = {f: changed.get(f, getattr(item, f)) for f in ITEM_FIELDS}
    _raise(_item_errors(merged))
    if not changed:
        return item
    before = {f: str(getattr(item, f)) for f in changed}
    for field, value in changed.items():
        setattr(item, field, value)
    item.version += 1
    item.full_clean()
    item.save(update_fields=[*changed, "version"])
    event_record(
        kind=Kind.ITEM_UPDATED,
        actor=actor,
        campaign=item.campaign,
        item=item,
        data={"before": before, "after": {f: str(v) for f, v in changed.items()}},
    )
    return item


S = RectificationItem.Status
TRANSITIONS = {
    (S.PENDING, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.DONE),
    (S.PENDING, S.DONE),
    (S.DONE, S.CLOSED),
    (S.DONE, S.IN_PROGRESS),
}


@transaction.atomic
def rectification_transition(
    *,
    actor: User,
    item: RectificationItem,
    to_status: str,
    note: str = "",
    expected_version: int | None = None,
    on: datetime.date | None = None,
) -> RectificationItem:
    """待整改 → 整改中 → 已整改 → 已销号. 已整改 needs measures and evidence; 已销号 (verified
    closure) and sending back to 整改中 are for the county office only."""
    item = RectificationItem.objects.select_for_update().get(pk=item.pk)
    _check_version(item, expected_version)
    if not (selectors.can_edit_rectification(actor) and roles.region_in_scope(actor, item.region)):
        raise PermissionDenied(_("您不能变更该整改事项的状态。"))
    if (item.status, to_status) not in TRANSITIONS:
        raise ValidationError(
            _("不能从“%(from)s”变更为“%(to)s”。") % {"from": item.status, "to": to_status},
            code="bad_transition",
        )
    county_only = to_status == S.CLOSED or (item.status == S.DONE and to_status == S.IN_PROGRESS)
    if county_only and actor.role != User.Role.COUNTY_OFFICER:
        raise PermissionDenied(_("销号和退回须由县扶贫办核验。"))
    if to_status == S.DONE:
        errors: dict[str, list[ValidationError]] = defaultdict(list)
        if not item.measures.strip():
            errors["measures"].append(
                ValidationError(_("标记已整改前须填写整改措施。"), code="measures_required")
            )
        if not item.evidence.exists():
            errors["evidence"].append(
                ValidationError(_("标记已整改前须上传佐证材料。"), code="evidence_required")
            )
        _raise(errors)
    if item.status == S.DONE and to_status == S.IN_PROGRESS and not note.strip():
        raise ValidationError(_("退回须说明原因。"), code="note_required")
    from_status = item.status
    item.status = to_status
    fields = ["status", "version"]
    if to_status == S.DONE:
        item.done_at = on or timezone.localdate()
        fields.append("done_at")
    elif from_status == S.DONE and to_status == S.IN_PROGRESS:
        item.done_at = None
        fields.append("done_at")
    if to_status == S.CLOSED:
        item.verified_by = actor
        item.closed_at = timezone.now()
        fields += ["verified_by", "closed_at"]
    item.version += 1
    item.save(update_fields=fields)
    event_record(
        kind=Kind.ITEM_CHANGED,
        actor=actor,
        campaign=item.campaign,
        item=item,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    _audit_approval(
        actor, "rectification", item.pk, f"{from_status} → {to_status}", to_status=to_status
    )
    return item


@transaction.atomic
def rectification_evidence_add(
    *, actor: User, item: RectificationItem, file: UploadedFile
) -> RectificationEvidence:
    if not (selectors.can_edit_rectification(actor) and roles.region_in_scope(actor, item.region)):
        raise PermissionDenied(_("您不能为该事项上传材料。"))
    if item.status == RectificationItem.Status.CLOSED:
        raise ValidationError(_("已销号的事项不能再上传材料。"), code="closed")
    name = (file.name or "").rsplit("/", 1)[-1]
    uploads.check_evidence(file)  # size and content, not name (povertyapp/uploads.py)
    evidence = RectificationEvidence(item=item, file=file, name=name[:128], uploaded_by=actor)
    evidence.save()
    event_record(
        kind=Kind.EVIDENCE_ADDED,
        actor=actor,
        campaign=item.campaign,
        item=item,
        data={"file": evidence.name},
    )
    return evidence


def rectification_mark_overdue(*, on: datetime.date | None = None) -> int:
    """Record an 整改逾期 event once for each open item past its deadline (run daily)."""
    on = on or timezone.localdate()
    already = InspectionEvent.objects.filter(kind=Kind.ITEM_OVERDUE).values("item_id")
    items = RectificationItem.objects.filter(selectors.overdue_q(on)).exclude(pk__in=already)
    count = 0
    for item in items:
        with transaction.atomic():
            event_record(
                kind=Kind.ITEM_OVERDUE,
                actor=None,
                campaign=item.campaign,
                item=item,
                note=_("超过整改时限%(deadline)s仍未完成。")
                % {"deadline": item.deadline.isoformat()},
            )
        count += 1
    return count


def frame_totals(campaign: Campaign) -> dict[str, dict[str, int]]:
    """Sampled households and persons by kind (for the campaign page)."""
    rows = (
        campaign.households.order_by()
        .values("kind")
        .annotate(n=Count("id"), persons=Sum("persons"))
    )
    return {
        str(SampleKind(row["kind"]).label): {"households": row["n"], "persons": row["persons"]}
        for row in rows
    }
