"""Every form class of the project, found by walking the apps, and for each a realistic form
built the way its view builds it, from stored objects (a household with a member whose 证件类型
is not 居民身份证, a measure with planned dates and money, a 公示, a finding, a rectification
item with a deadline, a project …).

`project_form_classes()` finds the classes; `CASES` says how to build each. A form class with no
entry in `CASES` (nor in `NOT_ROUND_TRIPPED`, with the reason) fails the meta-tests, so a new form
is covered the day it is written.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from typing import Any

from django import forms as django_forms
from django.apps import apps
from django.db import models
from django.forms.formsets import BaseFormSet

from assistance import forms as assistance_forms
from assistance import models as assistance_models
from assistance import services as assistance_services
from households import forms as household_forms
from households import services as household_services
from households.models import Household, HouseholdIncome, Member
from households.national import forms as national_forms
from inspections import forms as inspection_forms
from inspections import services as inspection_services
from inspections.models import Campaign, Finding, RectificationItem, SampleHousehold, SampleVillage
from monitoring import forms_clues as clue_forms
from monitoring import forms_lists as monitoring_forms_lists
from monitoring import forms_objects as monitoring_forms
from monitoring import forms_sweeps as sweep_forms
from povertyapp import roles
from rounds import dashboard_views
from tests import factories
from tests.project import PROJECT_APPS, app_today
from years import forms_rollover, forms_signoff

PROJECT_PACKAGES = PROJECT_APPS
# Modules that are not code a form could live in, or that start things when imported.
SKIPPED_MODULES = ("migrations", "management", "settings", "wsgi", "asgi", "celery")


def _modules() -> list[Any]:
    found = []
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            if any(part in SKIPPED_MODULES for part in info.name.split(".")):
                continue
            found.append(importlib.import_module(info.name))
    return found


def _ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] in PROJECT_PACKAGES


def project_form_classes() -> dict[str, type]:
    """Every form and formset class the project's modules define or build, by dotted name."""
    from povertyapp import forms as house

    bases = {house.Form, house.ModelForm}
    classes: dict[str, type] = {}
    for module in _modules():
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if value in bases:
                continue
            if issubclass(value, django_forms.BaseForm) and _ours(value):
                classes[f"{value.__module__}.{value.__qualname__}"] = value
            elif (
                issubclass(value, BaseFormSet)
                and hasattr(value, "form")
                and _ours(value.form)
                and value.__name__ != "BaseFormSet"
            ):
                if value.__module__.startswith("django."):
                    # Built by formset_factory: named after the module attribute that holds it.
                    classes[f"{module.__name__}.{_name}"] = value
                else:
                    classes[f"{value.__module__}.{value.__qualname__}"] = value
    return classes


def project_filtersets() -> dict[str, type]:
    """Every django-filter FilterSet of the project (their forms are built at run time)."""
    import django_filters

    return {
        f"{value.__module__}.{value.__qualname__}": value
        for module in _modules()
        for _name, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, django_filters.FilterSet) and _ours(value)
    }


class World:
    """The stored objects the forms edit, built on first use through the services."""

    def __init__(self, cast: Any, county: Any) -> None:
        self.cast = cast
        self.county = county

    @cached_property
    def household(self) -> Household:
        household = factories.household(
            actor=self.cast.county,
            village=self.county.village_a,
            group=self.county.group_a1,
            phone="13800001234",
            bank_name="黄平县农村信用社",
            bank_account="6217000012345678901",
            cultivated_land=Decimal("3.50"),
            irrigated_land=Decimal("1.25"),
            forest_land=Decimal("12.00"),
            housing_area=Decimal("86.40"),
            distance_to_road_km=Decimal("0.80"),
            cause_note="长期患病，缺少劳动力；子女在读",
            planned_exit_year=2020,
            members=[
                factories.member_data(),
                factories.member_data(
                    name="李四", relation="配偶", sex="女", birth_date=datetime.date(1982, 3, 9)
                ),
                # A member with another document: no ID number to derive the birth date from,
                # so the stored birth date is all there is.
                factories.member_data(
                    name="王小五",
                    relation="之子",
                    sex="男",
                    birth_date=datetime.date(2009, 11, 23),
                    id_type="其他",
                    id_number="",
                    education="小学",
                    school_status="九年级",
                    work_status="无",
                    labour_skill="无劳动力",
                    work_months=0,
                ),
            ],
        )
        from assistance.models import Pairing

        Pairing.objects.create(
            household=household,
            helper=self.cast.helper,
            name="helper",
            start_date=datetime.date(2019, 1, 1),
        )
        return household

    @cached_property
    def lists(self) -> dict[str, list[str]]:
        return household_forms.lists_for_user(self.cast.cadre)

    @cached_property
    def other_id_member(self) -> Member:
        return self.household.members.get(name="王小五")

    @cached_property
    def income(self) -> HouseholdIncome:
        return household_services.income_set(
            actor=self.cast.cadre,
            household=self.household,
            year=2019,
            data={
                "wage": Decimal("12000.00"),
                "production": Decimal("3500.50"),
                "property_income": Decimal("0"),
                "family_planning": Decimal("0"),
                "dibao": Decimal("2400.00"),
                "tekun": Decimal("0"),
                "pension": Decimal("1236.00"),
                "eco_compensation": Decimal("88.88"),
                "other_transfer": Decimal("0"),
                "production_cost": Decimal("1500.00"),
                "compliant_out_of_pocket": Decimal("0"),
                "insurance_claims": Decimal("0"),
            },
        )

    @cached_property
    def measure(self) -> Any:
        return assistance_services.measure_create(
            actor=self.cast.cadre,
            household=self.household,
            data={
                "member": self.other_id_member,
                "year": 2020,
                "category": "产业帮扶",
                "content": "养殖黄牛2头\n配套圈舍改造",
                "planned_start": datetime.date(2020, 3, 15),
                "planned_end": datetime.date(2020, 12, 3),
                "responsible": "杨光荣",
                "amount": "12345.67",
                "fund_source": "中央财政专项扶贫资金",
            },
        )

    @cached_property
    def plan(self) -> Any:
        return assistance_services.plan_set(
            actor=self.cast.cadre,
            household=self.household,
            year=2020,
            goals="发展养殖，年内稳定增收",
            expected_income=Decimal("4800.50"),
            exit_target=True,
        )

    @cached_property
    def project(self) -> Any:
        return assistance_services.project_create(
            actor=self.cast.county,
            data={
                "name": "凤场村蔬菜大棚",
                "category": "产业",
                "region": self.county.village_a,
                "year": 2020,
                "responsible_unit": "县农业农村局",
                "planned_start": datetime.date(2020, 3, 1),
                "planned_end": datetime.date(2020, 10, 31),
            },
            fundings={"中央财政专项扶贫资金": "100000.00", "社会帮扶": "20000.50"},
            beneficiaries=[self.household],
        )

    @cached_property
    def asset(self) -> Any:
        return assistance_services.asset_create(
            actor=self.cast.county,
            data={
                "project": self.project,
                "kind": "household",
                "name": "到户养殖棚圈",
                "village": self.county.village_a,
                "value": "30000.50",
                "ownership": "农户",
                "manager": "凤场村股份经济合作社",
                "formed_on": datetime.date(2020, 11, 3),
                "note": "县农业农村局验收",
            },
            households=[self.household],
        )

    @cached_property
    def campaign(self) -> Campaign:
        today = app_today()
        campaign = inspection_services.campaign_create(
            actor=self.cast.county,
            county=self.county.county,
            name="2019年第三方评估",
            kind="third_party",
            year=2019,
            visit_date=today - datetime.timedelta(days=1),
            end_date=today + datetime.timedelta(days=5),
            assessors=[self.cast.auditor],
            townships_to_draw=2,
            villages_per_township=2,
            households_per_village=10,
            inside_share=Decimal("0.65"),
        )
        campaign.status = Campaign.Status.DRAWN
        campaign.seed = 1
        campaign.save()
        return campaign

    @cached_property
    def sample(self) -> SampleHousehold:
        village = SampleVillage.objects.create(
            campaign=self.campaign,
            village=self.county.village_a,
            township=self.county.township1,
            position=1,
            stratum_class="中",
            actual_class="中",
            village_probability=1.0,
            township_probability=1.0,
            frame_households={"unexited": 1},
            frame_persons={},
        )
        return SampleHousehold.objects.create(
            campaign=self.campaign,
            sample_village=village,
            kind="unexited",
            position=1,
            head_name="户主1-1",
            persons=3,
            household=self.household,
        )

    @cached_property
    def finding(self) -> Finding:
        return inspection_services.finding_save(
            actor=self.cast.auditor,
            sample=self.sample,
            data={
                "stated_per_capita_income": Decimal("5000.00"),
                "verified_per_capita_income": Decimal("5234.50"),
                "food_secure": True,
                "clothing_secure": True,
                "education_secure": False,
                "medical_secure": True,
                "housing_secure": None,
                "water_secure": True,
                "eligible": None,
                "result": "正常",
                "omission_scope": "",
                "error_persons": 0,
                "approval": "认可",
                "disapproval_reason": "",
                "notes": "户主在家\n配偶外出务工",
            },
        )

    @cached_property
    def rectification(self) -> RectificationItem:
        return inspection_services.rectification_create(
            actor=self.cast.county,
            region=self.county.village_a,
            data={
                "problem": "帮扶手册填写不完整",
                "category": "帮扶工作",
                "responsible_unit": "新州镇人民政府",
                "responsible_person": "陈明",
                "deadline": datetime.date(2026, 12, 31),
                "measures": "逐户核对帮扶手册\n月底前补齐",
            },
        )


# How each form class is built for a realistic stored object: a function of the World and the
# bound data (None for the rendered, unbound form) returning the form exactly as its view
# builds it (same kwargs, same initial).
Builder = Callable[[World, Any], Any]


def _household_form(world: World, data: Any) -> Any:
    return household_forms.HouseholdForm(
        data,
        initial=household_forms.household_initial(world.household),
        user=world.cast.cadre,
        lists=world.lists,
    )


def _member_formset(world: World, data: Any) -> Any:
    members = world.household.members.filter(is_active=True).order_by("id")
    return household_forms.MemberFormSet(
        data,
        prefix="members",
        lists=world.lists,
        initial=[household_forms.member_initial(member) for member in members],
    )


def _member_form(world: World, data: Any) -> Any:
    return household_forms.MemberForm(
        data, lists=world.lists, initial=household_forms.member_initial(world.other_id_member)
    )


def _income_form(world: World, data: Any) -> Any:
    income = world.income
    initial: dict[str, Any] = {
        name: getattr(income, name) for name in household_services.INCOME_FIELDS
    }
    initial["version"] = income.version
    return household_forms.IncomeForm(data, initial=initial)


def _measure_form(world: World, data: Any) -> Any:
    measure = world.measure
    initial = {name: getattr(measure, name) for name in assistance_services.MEASURE_FIELDS}
    return assistance_forms.MeasureForm(data, household=world.household, initial=initial)


def _plan_form(world: World, data: Any) -> Any:
    plan = world.plan
    return assistance_forms.PlanForm(
        data,
        initial={
            "year": plan.year,
            "goals": plan.goals,
            "expected_income": plan.expected_income,
            "exit_target": plan.exit_target,
            "version": plan.version,
        },
    )


def _finding_form(world: World, data: Any) -> Any:
    return inspection_forms.FindingForm(data, instance=world.finding)


def _rectification_form(world: World, data: Any) -> Any:
    item = world.rectification
    return inspection_forms.RectificationForm(
        data, initial={name: getattr(item, name) for name in inspection_services.ITEM_FIELDS}
    )


def _rectification_create_form(world: World, data: Any) -> Any:
    item = world.rectification
    return inspection_forms.RectificationCreateForm(
        data,
        regions=roles.region_scope(world.cast.county),
        initial={
            "region": item.region,
            "source": item.source,
            **{name: getattr(item, name) for name in inspection_services.ITEM_FIELDS},
        },
    )


def _project_form(world: World, data: Any) -> Any:
    project = world.project
    initial: dict[str, Any] = {
        name: getattr(project, name)
        for name in (
            "name",
            "category",
            "region",
            "year",
            "content",
            "responsible_unit",
            "planned_start",
            "planned_end",
            "performance_goal",
        )
    }
    initial["beneficiaries"] = world.household.number
    for funding in project.fundings.all():
        initial[f"fund_{funding.source}"] = funding.amount
    return assistance_forms.ProjectForm(
        data, regions=roles.region_scope(world.cast.county), initial=initial
    )


def _asset_form(world: World, data: Any) -> Any:
    return assistance_forms.AssetForm(
        data,
        projects=assistance_models.Project.objects.filter(pk=world.project.pk),
        villages=roles.region_scope(world.cast.county),
        initial={
            "project": world.project.pk,
            "kind": "household",
            "name": "到户养殖棚圈",
            "village": world.county.village_a.pk,
            "value": Decimal("30000.50"),
            "ownership": "农户",
            "manager": "凤场村股份经济合作社",
            "formed_on": datetime.date(2020, 11, 3),
            "households": world.household.number,
            "note": "县农业农村局验收",
            "version": 2,
        },
    )


def _progress_form(world: World, data: Any) -> Any:
    project = world.project
    return assistance_forms.ProgressForm(
        data,
        initial={
            "progress_percent": 45,
            "progress_note": "主体完工",
            "actual_start": datetime.date(2020, 3, 2),
            "actual_end": None,
            "version": project.version,
        },
    )


def _campaign_form(world: World, data: Any) -> Any:
    campaign = world.campaign
    return inspection_forms.CampaignForm(
        data,
        county=world.county.county,
        initial={
            "name": campaign.name,
            "kind": campaign.kind,
            "year": campaign.year,
            "visit_date": campaign.visit_date,
            "end_date": campaign.end_date,
            "assessors": [world.cast.auditor],
            "townships_to_draw": 2,
            "villages_per_township": 2,
            "households_per_village": 10,
            "inside_share": Decimal("0.65"),
        },
    )


def this_year() -> int:
    return app_today().year


def _initial(values: dict[str, Any]) -> dict[str, Any]:
    """The initial values with each function among them (`app_today`, `this_year`) called now:
    CASES is built at import, but today's date must be read when the test runs."""
    return {name: value() if callable(value) else value for name, value in values.items()}


def _simple(form_class: Any, **initial: Any) -> Builder:
    """A form whose view gives it plain initial values (today's date and the like)."""

    def build(world: World, data: Any) -> Any:
        return form_class(data, initial=_initial(initial))

    return build


def _with_lists(form_class: Any, **initial: Any) -> Builder:
    def build(world: World, data: Any) -> Any:
        return form_class(data, lists=world.lists, initial=_initial(initial))

    return build


def _visit_form(can_update_household: bool) -> Builder:
    def build(world: World, data: Any) -> Any:
        return assistance_forms.VisitForm(
            data,
            can_update_household=can_update_household,
            # The view gives the date (today) and the version; the rest is what the helper types.
            initial={
                "seen": "家中有人，生产生活正常\n子女按时上学",
                "q_food": "是",
                **({"version": world.household.version} if can_update_household else {}),
            },
        )

    return build


def _measure_status_form(world: World, data: Any) -> Any:
    return assistance_forms.MeasureStatusForm(
        data,
        initial={
            "status": "in_progress",
            "result": "",
            "income_effect": Decimal("1500.00"),
            "version": world.measure.version,
        },
    )


def _pairing_form(world: World, data: Any) -> Any:
    return assistance_forms.PairingForm(
        data,
        initial={
            "helper": world.cast.helper,
            "name": "helper",
            "unit": "黄平县农业农村局",
            "post": "科员",
            "phone": "13800005678",
            "start_date": datetime.date(2019, 1, 1),
        },
    )


# --- issue 15: clues ---


def _declaration_initial(world: World) -> dict[str, Any]:
    return {
        "name": "张三",
        "phone": "13812345678",
        "id_number": world.household.members.order_by("id").first().id_number,
        "difficulty": "丈夫住院，花费五万元\n家中缺少劳动力",
        "village": world.county.village_a.pk,
        "risk_type": "illness",
    }


def _declaration_form(world: World, data: Any) -> Any:
    return clue_forms.DeclarationForm(
        data, villages=clue_forms.declarable_villages(), initial=_declaration_initial(world)
    )


def _clue_add_form(world: World, data: Any) -> Any:
    initial = {**_declaration_initial(world), "source": "hotline", "received_on": app_today()}
    return clue_forms.ClueAddForm(
        data, villages=clue_forms.declarable_villages(world.cast.cadre), initial=initial
    )


def _attach_form(world: World, data: Any) -> Any:
    households = Household.objects.filter(pk=world.household.pk).select_related("village")
    return clue_forms.AttachForm(
        data, households=households, initial={"household": world.household.pk, "version": 1}
    )


def _rollup_start_form(world: World, data: Any) -> Any:
    from django.utils import timezone

    from rounds.models import AdjustmentRound
    from rounds.rollup_views import RollupStartForm

    county = world.county.county
    AdjustmentRound.objects.get_or_create(
        county=county,
        year=app_today().year,
        defaults={
            "name": f"{app_today().year}年动态调整",
            "opened_at": timezone.now(),
            "opened_by": world.cast.county,
        },
    )
    return RollupStartForm(data, region=county.parent, initial={"year": app_today().year})


CASES: dict[str, Builder] = {
    "households.forms.HouseholdForm": _household_form,
    "households.forms.MemberForm": _member_form,
    "households.forms.MemberFormSet": _member_formset,
    "households.forms.JoinReasonForm": _with_lists(household_forms.JoinReasonForm),
    "households.forms.MemberRemoveForm": _with_lists(
        household_forms.MemberRemoveForm, reason="死亡", effective_date=app_today, note="病故"
    ),
    "households.forms.MemberMoveForm": _with_lists(
        household_forms.MemberMoveForm,
        to_number="5226221002000001",
        relation="配偶",
        effective_date=app_today,
        reason="婚迁",
    ),
    "households.forms.StepForm": _simple(
        household_forms.StepForm,
        opinion="经村民代表大会评议通过",
        attendance=35,
        acted_on=app_today,
    ),
    "households.forms.ReturnForm": lambda world, data: household_forms.ReturnForm(
        data,
        targets=[("appraisal", "民主评议"), ("verification", "核实")],
        initial={"to_step": "verification", "opinion": "材料不全"},
    ),
    "households.forms.WithdrawForm": _simple(household_forms.WithdrawForm, reason="农户撤回申请"),
    "households.forms.NoticeForm": _simple(
        household_forms.NoticeForm,
        start_date=app_today,
        days=7,
        phone="0855-2421234",
        place="村委会公示栏",
    ),
    "households.forms.ObjectionForm": _simple(
        household_forms.ObjectionForm, received_on=app_today, objector="", content="收入不实"
    ),
    "households.forms.StartForm": lambda world, data: household_forms.StartForm(
        data, kind="exit", initial={"opinion": "收入稳定超过标准", "effective_date": app_today()}
    ),
    "households.forms.ExplainForm": _simple(
        household_forms.ExplainForm, explanation="已核实，属实"
    ),
    "households.forms.ReviewForm": _simple(household_forms.ReviewForm, accept="1", note="同意"),
    "households.forms.IncomeForm": _income_form,
    # issue 16: the exchange with the national system
    "households.national.forms.NationalMarkForm": _simple(
        national_forms.NationalMarkForm, entered_on=app_today
    ),
    # issue 16: the city's or province's office starts its roll-up
    "rounds.rollup_views.RollupStartForm": _rollup_start_form,
    # issue 16: the year's rollover and sign-off pages
    "years.forms_rollover.RolloverForm": _simple(forms_rollover.RolloverForm, year=this_year),
    "years.forms_signoff.SignForm": _simple(forms_signoff.SignForm),
    "years.forms_signoff.ReasonForm": _simple(
        forms_signoff.ReasonForm, reason="数据有误，退回核实"
    ),
    "households.national.forms.RegionForm": lambda world, data: national_forms.RegionForm(
        data, user=world.cast.county, initial={"region": world.cast.county.region.code}
    ),
    "households.national.forms.NationalExportForm": lambda world, data: (
        national_forms.NationalExportForm(
            data,
            user=world.cast.county,
            initial={"region": world.cast.county.region.code},
        )
    ),
    "households.national.forms.NationalBulkMarkForm": lambda world, data: (
        national_forms.NationalBulkMarkForm(
            data,
            user=world.cast.county,
            initial={"region": world.cast.county.region.code, "entered_on": app_today()},
        )
    ),
    # issue 15: objects
    "monitoring.forms_objects.ObjectFilterForm": lambda world, data: (
        monitoring_forms.ObjectFilterForm(
            data,
            initial={"object_type": "marginal", "risk_type": "illness", "state": "monitored"},
        )
    ),
    "monitoring.forms_objects.IdentifyForm": _simple(
        monitoring_forms.IdentifyForm,
        object_type="sudden",
        risk_types=["disaster", "illness"],
        clue_date=app_today,
        consent_signed_on=app_today,
        green_channel=True,
        green_channel_reason="洪灾房屋受损",
        opinion="入户核实属实",
    ),
    "monitoring.forms_objects.IncomeForm": _simple(
        monitoring_forms.IncomeForm,
        period_end=app_today,
        wage=Decimal("12000.50"),
        production=Decimal("3000"),
        property_income=Decimal("0"),
        transfer=Decimal("1200"),
        production_cost=Decimal("800"),
        compliant_out_of_pocket=Decimal("2600"),
        insurance_payouts=Decimal("1300"),
        co_residents="王五、赵六",
    ),
    "monitoring.forms_objects.EliminateForm": _simple(
        monitoring_forms.EliminateForm, way="natural", basis="收入稳定超过监测标准", version=3
    ),
    "monitoring.forms_objects.RiskResolveForm": lambda world, data: (
        monitoring_forms.RiskResolveForm(
            data, prefix="risk-7", initial={"resolved_on": app_today(), "version": 4}
        )
    ),
    "households.forms.BatchCreateForm": lambda world, data: household_forms.BatchCreateForm(
        data,
        case_choices=[(11, "5226221002000011 张三（民主评议）")],
        household_choices=[(21, "5226221002000021 李四"), (22, "5226221002000022 王五")],
        initial={
            "name": "凤场村2026年第一批识别",
            "cases": [11],
            "households": [22],
            "opened_on": app_today(),
            "opinion": "农户书面申请",
        },
    ),
    "households.forms.BatchMeetingForm": lambda world, data: household_forms.BatchMeetingForm(
        data,
        members=[(31, "5226221002000031 张三"), (32, "5226221002000032 李四")],
        initial={
            "meeting_date": app_today(),
            "attendance": 32,
            "opinion": "村民代表会议评议",
            "reason_32": "家庭收入超过标准",
        },
    ),
    "households.forms.BatchStepForm": lambda world, data: household_forms.BatchStepForm(
        data,
        members=[(41, "5226221002000041 张三"), (42, "5226221002000042 李四")],
        targets=[("appraisal", "民主评议"), ("verification", "核实")],
        initial={
            "opinion": "审核同意",
            "acted_on": app_today(),
            "return_to_42": "verification",
            "reason_42": "住房面积与核实不符",
        },
    ),
    "households.forms.BatchNoticeForm": _simple(
        household_forms.BatchNoticeForm,
        start_date=app_today,
        days=7,
        phone="0855-2421234",
        place="村委会公示栏",
    ),
    "households.forms.RoundReviewForm": lambda world, data: household_forms.RoundReviewForm(
        data,
        regions=[("522622100000", "新州镇（全乡镇）"), ("522622100200", "新州镇 凤场村")],
        lines=[(51, "5226221002000051"), (52, "5226221002000052")],
        initial={"region": "522622100200", "opinion": "同意", "return_52": "车辆已出售"},
    ),
    "assistance.forms.MeasureForm": _measure_form,
    "assistance.forms.MeasureStatusForm": _measure_status_form,
    "assistance.forms.PlanForm": _plan_form,
    "assistance.forms.VisitForm": _visit_form(can_update_household=True),
    "assistance.forms.PairingForm": _pairing_form,
    "assistance.forms.ProjectForm": _project_form,
    "assistance.forms.MovementForm": _simple(
        assistance_forms.MovementForm,
        kind="allocated",
        source="中央财政专项扶贫资金",
        amount=Decimal("50000.00"),
        document_number="黄扶发〔2020〕12号",
    ),
    "assistance.forms.ProgressForm": _progress_form,
    "assistance.forms.ApproveForm": _simple(
        assistance_forms.ApproveForm, approved_on=app_today, document_number="黄扶办〔2020〕3号"
    ),
    "assistance.forms.PublishForm": _simple(assistance_forms.PublishForm, start=app_today, days=12),
    "assistance.forms.AssetForm": _asset_form,
    "assistance.forms.AssetIncomeForm": _simple(
        assistance_forms.AssetIncomeForm, year=2021, amount=Decimal("3600.50"), note="光伏发电收益"
    ),
    "assistance.forms.AssetDistributionForm": _simple(
        assistance_forms.AssetDistributionForm,
        year=2021,
        household_number="5226221002000009",
        amount=Decimal("300.25"),
        paid_on=app_today,
    ),
    "assistance.forms.AcceptForm": _simple(
        assistance_forms.AcceptForm, settled_amount=Decimal("118234.50")
    ),
    "inspections.forms.CampaignForm": _campaign_form,
    "inspections.forms.DrawForm": _simple(inspection_forms.DrawForm, seed=4611686018427387904),
    "inspections.forms.FindingForm": _finding_form,
    "inspections.forms.OnSiteHouseholdForm": _simple(
        inspection_forms.OnSiteHouseholdForm, head_name="赵六", persons=4, address="凤场村3组"
    ),
    "inspections.forms.RectificationForm": _rectification_form,
    "inspections.forms.RectificationCreateForm": _rectification_create_form,
    "inspections.forms.TransitionForm": _simple(
        inspection_forms.TransitionForm, to_status="整改中", version=1, note=""
    ),
    "inspections.forms.ResolveTaskForm": _simple(
        inspection_forms.ResolveTaskForm, note="已新建档案", household_number="5226221002000009"
    ),
    "rounds.dashboard_views.AsOfForm": _simple(
        dashboard_views.AsOfForm, as_of=datetime.date(2020, 6, 30)
    ),
    # issue 15: sweep
    "monitoring.forms_sweeps.SweepOpenForm": _simple(
        sweep_forms.SweepOpenForm,
        name="2026年防返贫集中排查",
        year=2026,
        start_date=app_today,
        end_date=app_today,
        line=Decimal("7000.00"),
        groups=["exited_2020", "low_income", "dibao"],
    ),
    "monitoring.forms_sweeps.SweepTeamForm": lambda world, data: sweep_forms.SweepTeamForm(
        data,
        county=world.county.county,
        initial={
            "name": "第一组",
            "first_member": "张明",
            "second_member": "李华",
            "villages": [world.county.village_a.pk, world.county.village_a2.pk],
        },
    ),
    "monitoring.forms_sweeps.SweepVisitForm": _simple(
        sweep_forms.SweepVisitForm,
        version=3,
        visited="yes",
        visited_on=app_today,
        first_surveyor="张明",
        second_surveyor="李华",
        food_secure="yes",
        clothing_secure="yes",
        education_secure="yes",
        medical_secure="no",
        housing_secure="yes",
        water_secure="yes",
        income_change="down",
        per_capita_income=Decimal("6500.50"),
        hardship="户主住院，自付费用高",
        risk_found=True,
        risk_types=["illness", "employment"],
        note="户主突发重病\n务工中断",
        skip_reason="",
    ),
    "monitoring.forms_clues.DeclarationForm": _declaration_form,
    "monitoring.forms_clues.ClueAddForm": _clue_add_form,
    "monitoring.forms_clues.VerifyForm": _simple(
        clue_forms.VerifyForm,
        verified_on=app_today,
        note="入户核实：住院属实",
        consent_signed_on=app_today,
        version=1,
    ),
    "monitoring.forms_clues.RegisterFromClueForm": _simple(
        clue_forms.RegisterFromClueForm, clue_version=2
    ),
    "monitoring.forms_clues.NotIncludeForm": _simple(
        clue_forms.NotIncludeForm, reason="收入稳定，不纳入", version=2
    ),
    "monitoring.forms_clues.AttachForm": _attach_form,
    "monitoring.forms_clues.ClueFilterForm": _simple(
        clue_forms.ClueFilterForm,
        channel="department",
        department="medical_insurance",
        state="all",
        risk_type="illness",
        overdue=True,
    ),
    # issue 15: lists
    "monitoring.forms_lists.ScrutinyCheckForm": _simple(
        monitoring_forms_lists.ScrutinyCheckForm, result="confirmed", finding="有车", version=1
    ),
    "monitoring.forms_lists.ScrutinyReviewForm": _simple(
        monitoring_forms_lists.ScrutinyReviewForm, agree="1", opinion="同意", version=1
    ),
    "monitoring.forms_lists.RemovalProposalForm": lambda world, data: (
        monitoring_forms_lists.RemovalProposalForm(
            data,
            grounds=["购买3万元以上车辆"],
            initial={"ground": "购买3万元以上车辆", "version": 1},
        )
    ),
    "monitoring.forms_lists.CadreRelationForm": _simple(
        monitoring_forms_lists.CadreRelationForm,
        id_number="522622198005170011",
        cadre_name="王主任",
        cadre_post="village_cadre",
        relation="兄弟",
    ),
}

# --- the pages that save a stored object with one press of 保存 ---------------------------------

# (user, page URL, a field of the form on that page)
Page = Callable[[World], tuple[Any, str, str]]


def _household_edit(world: World) -> tuple[Any, str, str]:
    return world.cast.cadre, f"/households/{world.household.pk}/edit/", "members-0-birth_date"


def _income_edit(world: World) -> tuple[Any, str, str]:
    return world.cast.cadre, f"/households/{world.household.pk}/income/{world.income.year}/", "wage"


def _measure_edit(world: World) -> tuple[Any, str, str]:
    return world.cast.cadre, f"/assistance/measures/{world.measure.pk}/edit/", "planned_start"


def _plan(world: World) -> tuple[Any, str, str]:
    world.plan  # noqa: B018 (stored before the page is read)
    return world.cast.cadre, f"/assistance/households/{world.household.pk}/?tab=plan", "goals"


def _finding(world: World) -> tuple[Any, str, str]:
    finding = world.finding
    url = f"/inspections/{world.campaign.pk}/households/{finding.sample_id}/"
    return world.cast.auditor, url, "verified_per_capita_income"


def _rectification(world: World) -> tuple[Any, str, str]:
    return world.cast.county, f"/inspections/rectification/{world.rectification.pk}/", "deadline"


def _rectification_by_cadre(world: World) -> tuple[Any, str, str]:
    return world.cast.cadre, f"/inspections/rectification/{world.rectification.pk}/", "measures"


def _project_progress(world: World) -> tuple[Any, str, str]:
    return world.cast.county, f"/assistance/projects/{world.project.pk}/", "progress_percent"


def _asset(world: World) -> tuple[Any, str, str]:
    return world.cast.county, f"/assistance/assets/{world.asset.pk}/edit/", "manager"


EDIT_PAGES: dict[str, Page] = {
    "asset": _asset,
    "household with members": _household_edit,
    "income": _income_edit,
    "measure": _measure_edit,
    "plan": _plan,
    "finding": _finding,
    "rectification (county)": _rectification,
    "rectification (cadre)": _rectification_by_cadre,
    "project progress": _project_progress,
}

CREATES = "creates a new record: nothing stored to keep (its defaults round-trip above)"
ACTION = "performs an action on a stored object; it edits none of its fields"

# For every form: the pages that save it unchanged, or why there is none.
PAGES_OF_FORMS: dict[str, tuple[str, ...] | str] = {
    "households.forms.HouseholdForm": ("household with members",),
    "households.forms.MemberForm": ("household with members",),
    "households.forms.MemberFormSet": ("household with members",),
    "households.forms.JoinReasonForm": ("household with members",),
    "households.forms.MemberRemoveForm": ACTION,
    "households.forms.MemberMoveForm": ACTION,
    "households.forms.StepForm": ACTION,
    "households.forms.ReturnForm": ACTION,
    "households.forms.WithdrawForm": ACTION,
    "households.forms.NoticeForm": CREATES,
    "households.forms.ObjectionForm": CREATES,
    "households.forms.StartForm": CREATES,
    "households.forms.ExplainForm": ACTION,
    "households.forms.ReviewForm": ACTION,
    "households.forms.IncomeForm": ("income",),
    # issue 16: marks (actions) and the region chosen for a check
    "households.national.forms.NationalMarkForm": ACTION,
    "households.national.forms.NationalBulkMarkForm": ACTION,
    "households.national.forms.NationalExportForm": ACTION,
    "households.national.forms.RegionForm": ACTION,
    "years.forms_rollover.RolloverForm": ACTION,
    "rounds.rollup_views.RollupStartForm": ACTION,
    "years.forms_signoff.SignForm": ACTION,
    "years.forms_signoff.ReasonForm": ACTION,
    "households.forms.BatchCreateForm": CREATES,
    "households.forms.BatchMeetingForm": ACTION,
    "households.forms.BatchStepForm": ACTION,
    "households.forms.BatchNoticeForm": CREATES,
    "households.forms.RoundReviewForm": ACTION,
    "assistance.forms.MeasureForm": ("measure",),
    "assistance.forms.MeasureStatusForm": ACTION,
    "assistance.forms.PlanForm": ("plan",),
    "assistance.forms.VisitForm": CREATES,
    "assistance.forms.PairingForm": CREATES + " (a change of pairing closes the old line)",
    "assistance.forms.ProjectForm": CREATES,
    "assistance.forms.MovementForm": CREATES,
    "assistance.forms.ProgressForm": ("project progress",),
    "assistance.forms.AcceptForm": ACTION,
    "assistance.forms.ApproveForm": ACTION,
    "assistance.forms.PublishForm": ACTION,
    "assistance.forms.AssetForm": ("asset",),
    "assistance.forms.AssetIncomeForm": CREATES + " (or corrects the year's income)",
    "assistance.forms.AssetDistributionForm": CREATES + " (or sets the household's amount)",
    "inspections.forms.CampaignForm": CREATES,
    "inspections.forms.DrawForm": ACTION,
    "inspections.forms.FindingForm": ("finding",),
    "inspections.forms.OnSiteHouseholdForm": CREATES,
    "inspections.forms.RectificationForm": ("rectification (county)", "rectification (cadre)"),
    "inspections.forms.RectificationCreateForm": CREATES,
    "inspections.forms.TransitionForm": ACTION,
    "inspections.forms.ResolveTaskForm": ACTION,
    "rounds.dashboard_views.AsOfForm": "a query (GET): it saves nothing",
    "monitoring.forms_sweeps.SweepOpenForm": CREATES,
    "monitoring.forms_sweeps.SweepTeamForm": CREATES,
    "monitoring.forms_sweeps.SweepVisitForm": CREATES
    + " (the 排查表 of a sweep household: each save is a recording that moves its version on)",
    "monitoring.forms_objects.ObjectFilterForm": "a query (GET): it saves nothing",
    "monitoring.forms_objects.IdentifyForm": CREATES,
    "monitoring.forms_objects.IncomeForm": CREATES,
    "monitoring.forms_objects.EliminateForm": ACTION,
    "monitoring.forms_objects.RiskResolveForm": ACTION,
    "monitoring.forms_clues.DeclarationForm": CREATES,
    "monitoring.forms_clues.ClueAddForm": CREATES,
    "monitoring.forms_clues.VerifyForm": ACTION,
    "monitoring.forms_clues.NotIncludeForm": ACTION,
    "monitoring.forms_clues.AttachForm": ACTION,
    "monitoring.forms_clues.RegisterFromClueForm": CREATES
    + " (the clue's version beside the registry's form of a new household)",
    "monitoring.forms_clues.ClueFilterForm": "a query (GET): it saves nothing",
    "monitoring.forms_lists.ScrutinyCheckForm": ACTION,
    "monitoring.forms_lists.ScrutinyReviewForm": ACTION,
    "monitoring.forms_lists.RemovalProposalForm": ACTION,
    "monitoring.forms_lists.CadreRelationForm": CREATES,
}

# Forms that hold nothing a browser sends back: their only required input is a file, which a
# browser never re-sends from a rendered page. Their empty-required wording is still tested.
NOT_ROUND_TRIPPED = {
    "inspections.forms.FindingsUploadForm": "only a file (the workbook)",
    "inspections.forms.EvidenceForm": "only a file (the evidence)",
    "povertyapp.security.forms.CodeForm": "a one-time code, typed afresh each time, never shown",
    "povertyapp.security.forms.PasswordConfirmForm": "a password to confirm, never shown",
    "monitoring.forms_lists.ListUploadForm": "a file (the department's list) with its layout",
    "households.national.forms.NationalReconcileForm": "a file (a national export) and a region",
    "households.forms.OnboardingImportForm": "a file (an onboarding workbook), a dry-run box",
}


# --- the database before and after a save ---------------------------------------------------

# Tables whose rows record what happened rather than what is: an unchanged save may still write
# to them (an access log entry), and they are never edited.
JOURNAL_MODELS = ("AccessLog", "AuditChainHead", "AuditArchive", "Job")


def _project_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_PACKAGES
        and not model.__name__.startswith("Historical")
        and not model.__name__.endswith("Event")
        and model.__name__ not in JOURNAL_MODELS
    ]


def snapshot() -> dict[str, dict[Any, dict[str, Any]]]:
    """Every stored value of the project's tables, but the moments rows were touched."""
    state: dict[str, dict[Any, dict[str, Any]]] = {}
    for model in _project_models():
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if not getattr(field, "auto_now", False)
        ]
        state[model._meta.label] = {
            row["pk"]: row for row in model.objects.values("pk", *fields).order_by("pk")
        }
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(table, pk, column, before, after) for every stored value that is not the same."""
    found: list[tuple[Any, ...]] = []
    for table in sorted(set(before) | set(after)):
        rows_before, rows_after = before.get(table, {}), after.get(table, {})
        for pk in sorted(set(rows_before) | set(rows_after)):
            row_before, row_after = rows_before.get(pk, {}), rows_after.get(pk, {})
            for column in sorted(set(row_before) | set(row_after)):
                if row_before.get(column) != row_after.get(column):
                    found.append((table, pk, column, row_before.get(column), row_after.get(column)))
    return found
