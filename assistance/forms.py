"""Forms of the assistance pages: they validate shape; the services validate the rules.

Money is taken as text and handed to the services, which parse it as Decimal and refuse
negative amounts or more than two decimals with a Chinese message (never via float).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.forms import ModelChoiceField
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assistance.models import VISIT_QUESTIONS, Asset, FundMovement, FundSource, Measure, Project
from assistance.selectors import measure_projects
from households.models import Household, Member, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import forms as house
from povertyapp.models import Region, User
from povertyapp.photos import ProcessedPhoto, photos_with_meta
from povertyapp.uploads import PhotoField

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

DATE = house.DateInput()
MONEY = house.MoneyInput()
TRISTATE = [("", _("不变")), ("true", _("是")), ("false", _("否"))]


def money_field(label: str | StrPromise, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label, required=required, widget=MONEY, max_length=20)


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        code = f"{obj.code} " if obj.code else ""
        return _("%(code)s%(name)s（%(region)s，%(year)s）") % {
            "code": code,
            "name": obj.name,
            "region": obj.region.name,
            "year": obj.year,
        }


class MeasureForm(house.Form):
    member = forms.ModelChoiceField(
        label=_("受益成员"),
        queryset=Member.objects.none(),  # the household's members, set per form
        required=False,
        empty_label=_("（全户）"),
    )
    year = forms.IntegerField(label=_("帮扶年度"), min_value=2010, max_value=2100)
    category = forms.ChoiceField(label=_("措施类别"))
    content = forms.CharField(
        label=_("措施内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    planned_start = forms.DateField(label=_("计划开始日期"), required=False, widget=DATE)
    planned_end = forms.DateField(label=_("计划完成日期"), required=False, widget=DATE)
    responsible = forms.CharField(label=_("责任人"), max_length=32, required=False)
    amount = money_field(_("帮扶资金（元）"))
    fund_source = forms.ChoiceField(
        label=_("资金来源"), required=False, choices=[("", "—"), *FundSource.choices]
    )
    project = ProjectChoiceField(
        label=_("所属项目"),
        queryset=Project.objects.none(),  # the household's village's and county's, per form
        required=False,
        empty_label=_("（不属于项目）"),
        help_text=_("本村项目及所在乡镇、县的跨村项目。"),
    )

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(ProjectChoiceField, self.fields["project"]).queryset = measure_projects(household)
        cast("ModelChoiceField[Member]", self.fields["member"]).queryset = household.members.filter(
            is_active=True
        )
        year = timezone.localdate().year
        self.fields["year"].initial = year
        labels = value_lists(year=year, province=province_of(household.village)).get(
            ValueList.MEASURE_CATEGORY, []
        )
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", "—"),
            *[(label, label) for label in labels],
        ]


class MeasureStatusForm(house.Form):
    status = forms.ChoiceField(
        label=_("新状态"),
        choices=[
            (Measure.Status.IN_PROGRESS, _("实施中")),
            (Measure.Status.COMPLETED, _("已完成")),
            (Measure.Status.CANCELLED, _("已取消")),
        ],
    )
    on = forms.DateField(label=_("日期"), widget=DATE, initial=timezone.localdate)
    result = forms.CharField(label=_("帮扶成效或取消原因"), required=False, max_length=500)
    income_effect = money_field(_("增收效果（元/年）"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class PlanForm(house.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2010, max_value=2100)
    goals = forms.CharField(label=_("帮扶目标"), widget=forms.Textarea(attrs={"rows": 3}))
    expected_income = money_field(_("预期年纯收入（元）"), required=True)
    exit_target = forms.BooleanField(label=_("计划当年脱贫"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class VisitForm(house.Form):
    date = forms.DateField(label=_("走访日期"), widget=DATE, initial=timezone.localdate)
    seen = forms.CharField(label=_("走访了解情况"), widget=forms.Textarea(attrs={"rows": 3}))
    done = forms.CharField(
        label=_("帮扶工作开展情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_steps = forms.CharField(
        label=_("下一步打算"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    contact_card_given = forms.BooleanField(label=_("已发放帮扶联系卡"), required=False)
    benefit_card_given = forms.BooleanField(label=_("已发放帮扶明白卡"), required=False)
    photos = PhotoField(
        label=_("现场照片"),
        help_text=_("可拍摄或选择多张照片（JPG或PNG），手机上会先缩小再上传。"),
    )
    # What the phone's script says of each photo (time taken, location if allowed, key).
    photo_meta = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20000)

    HOUSEHOLD_FIELDS = (
        ("food_secure", _("核实：不愁吃")),
        ("clothing_secure", _("核实：不愁穿")),
        ("water_safe", _("核实：饮水安全")),
        ("water_difficult", _("核实：饮水困难")),
        ("has_sanitary_toilet", _("核实：有卫生厕所")),
    )

    def __init__(self, *args: Any, can_update_household: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, text, choices in VISIT_QUESTIONS:
            if choices:
                self.fields[f"q_{key}"] = forms.ChoiceField(
                    label=text,
                    required=False,
                    choices=[("", "—"), *[(choice, gettext(choice)) for choice in choices]],
                )
            else:
                self.fields[f"q_{key}"] = forms.CharField(
                    label=text, required=False, max_length=200
                )
        self.can_update_household = can_update_household
        if can_update_household:
            for name, label in self.HOUSEHOLD_FIELDS:
                self.fields[f"h_{name}"] = forms.ChoiceField(
                    label=label, required=False, choices=TRISTATE
                )
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def question_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("q_")]

    def household_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("h_")]

    def answers(self) -> dict[str, str]:
        return {
            name[2:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("q_") and value
        }

    def photos_checked(self) -> list[ProcessedPhoto]:
        """The checked photos with what the phone recorded about each (`photo_meta`)."""
        return photos_with_meta(
            self.cleaned_data.get("photos") or [],
            self.cleaned_data.get("photo_meta"),
            uploaded_at=timezone.now(),
        )

    def household_updates(self) -> dict[str, bool]:
        return {
            name[2:]: value == "true"
            for name, value in self.cleaned_data.items()
            if name.startswith("h_") and value
        }


def visit_form_definition(*, can_update_household: bool) -> list[dict[str, Any]]:
    """The visit form as data, for the offline page that draws it without the server
    (docs/offline.md): the same fields, labels, choices and required flags as `VisitForm`, so
    the two cannot drift apart."""
    return form_definition(VisitForm(can_update_household=can_update_household))


def form_definition(
    form: forms.Form, *, required: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """An online form as data for the offline page (docs/offline.md), read from the form's own
    fields: name, label, kind, required (the form's flag, or named in `required` for a field the
    service requires although the form leaves it to the service), choices, help. Kinds: date,
    text, textarea, number, choice, multi (several choices), checkbox, file."""
    definition = []
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.HiddenInput):
            continue  # the version travels with the entry, not as a field
        if isinstance(field, PhotoField):
            continue  # photos are kept and sent apart (static/js/offline-photos.js)
        if isinstance(field, forms.DateField):
            kind = "date"
        elif isinstance(field, forms.BooleanField):
            kind = "checkbox"
        elif isinstance(field, forms.MultipleChoiceField):
            kind = "multi"
        elif isinstance(field, forms.ChoiceField):
            kind = "choice"
        elif isinstance(field, forms.FileField):
            kind = "file"
        elif isinstance(field, forms.DecimalField | forms.IntegerField):
            kind = "number"
        elif isinstance(field.widget, forms.Textarea):
            kind = "textarea"
        else:
            kind = "text"
        item: dict[str, Any] = {
            "name": name,
            "label": str(field.label),
            "kind": kind,
            "required": field.required or name in required,
        }
        if isinstance(field, forms.ChoiceField):
            choices = cast("list[tuple[Any, Any]]", field.choices)
            item["choices"] = [[str(value), str(text)] for value, text in choices]
        if field.help_text:
            item["help"] = str(field.help_text)
        definition.append(item)
    return definition


class PairingForm(house.Form):
    helper = forms.ModelChoiceField(
        label=_("帮扶责任人账号"),
        required=False,
        queryset=User.objects.filter(role=User.Role.HELPER, is_active=True).order_by("full_name"),
        help_text=_("有系统账号的选择账号；没有的直接填写下方信息。"),
    )
    name = forms.CharField(label=_("帮扶责任人"), max_length=32, required=False)
    unit = forms.CharField(label=_("工作单位"), max_length=64, required=False)
    post = forms.CharField(label=_("职务"), max_length=32, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    start_date = forms.DateField(label=_("帮扶开始日期"), widget=DATE, initial=timezone.localdate)


class ProjectForm(house.Form):
    code = forms.CharField(label=_("项目编号"), max_length=32, required=False)
    name = forms.CharField(label=_("项目名称"), max_length=128)
    category = forms.ChoiceField(label=_("项目类别"), choices=Project.Category.choices)
    region = forms.ModelChoiceField(
        label=_("实施地点"), queryset=Region.objects.none()
    )  # the user's regions, set per form
    year = forms.IntegerField(label=_("年度"), min_value=2010, max_value=2100)
    content = forms.CharField(
        label=_("建设内容"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    responsible_unit = forms.CharField(label=_("责任单位"), max_length=64)
    planned_start = forms.DateField(label=_("计划开工日期"), required=False, widget=DATE)
    planned_end = forms.DateField(label=_("计划完工日期"), required=False, widget=DATE)
    performance_goal = forms.CharField(
        label=_("绩效目标"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    beneficiaries = forms.CharField(
        label=_("受益户户编号"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("多个户编号用空格、逗号或换行分隔。"),
    )

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("ModelChoiceField[Region]", self.fields["region"]).queryset = regions.filter(
            level__in=[Region.Level.VILLAGE, Region.Level.TOWNSHIP, Region.Level.COUNTY]
        ).order_by("code")
        self.fields["year"].initial = timezone.localdate().year
        for source, label in FundSource.choices:
            self.fields[f"fund_{source}"] = money_field(label)

    def funding_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("fund_")]

    def fundings(self) -> dict[str, str]:
        return {
            name[5:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("fund_") and value
        }

    def beneficiary_numbers(self) -> list[str]:
        text = self.cleaned_data.get("beneficiaries") or ""
        for separator in ",，、;；\n\r\t":
            text = text.replace(separator, " ")
        return [number for number in text.split(" ") if number]


class MovementForm(house.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=FundMovement.Kind.choices)
    source = forms.ChoiceField(label=_("资金来源"), choices=FundSource.choices)
    amount = money_field(_("金额（元）"), required=True)
    date = forms.DateField(label=_("日期"), widget=DATE, initial=timezone.localdate)
    document_number = forms.CharField(label=_("下达文号"), max_length=64, required=False)
    voucher = forms.CharField(label=_("报账凭证号"), max_length=64, required=False)
    household_number = forms.CharField(
        label=_("到户（户编号，可不填）"), max_length=32, required=False
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class ProgressForm(house.Form):
    progress_percent = forms.IntegerField(label=_("进度（%）"), min_value=0, max_value=100)
    progress_note = forms.CharField(label=_("进度说明"), max_length=500, required=False)
    actual_start = forms.DateField(label=_("实际开工日期"), required=False, widget=DATE)
    actual_end = forms.DateField(label=_("实际完工日期"), required=False, widget=DATE)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AcceptForm(house.Form):
    accepted_on = forms.DateField(label=_("验收日期"), widget=DATE, initial=timezone.localdate)
    settled_amount = money_field(_("决算金额（元）"), required=True)


class ApproveForm(house.Form):
    approved_on = forms.DateField(label=_("审批日期"), widget=DATE, initial=timezone.localdate)
    document_number = forms.CharField(label=_("审批文号"), max_length=64, required=False)


class PublishForm(house.Form):
    start = forms.DateField(label=_("公示开始日期"), widget=DATE, initial=timezone.localdate)
    days = forms.IntegerField(label=_("公示天数"), min_value=1, max_value=90, initial=10)


def _numbers(text: str) -> list[str]:
    for separator in ("，", ",", "、", ";", "；", "\n", "\r", "\t"):
        text = text.replace(separator, " ")
    return [number for number in text.split(" ") if number]


class AssetForm(house.Form):
    """资产登记: shape only; the service checks the project, village and households."""

    project = forms.ModelChoiceField(label=_("来源项目"), queryset=Project.objects.none())
    kind = forms.ChoiceField(label=_("资产类型"), choices=Asset.Kind.choices)
    name = forms.CharField(label=_("资产名称"), max_length=128)
    village = forms.ModelChoiceField(label=_("所在行政村"), queryset=Region.objects.none())
    value = money_field(_("资产价值（元）"), required=True)
    ownership = forms.ChoiceField(label=_("确权归属"), choices=Asset.Ownership.choices)
    manager = forms.CharField(label=_("管护主体"), max_length=64)
    formed_on = forms.DateField(label=_("形成日期"), widget=DATE)
    households = forms.CharField(
        label=_("到户农户户编号"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("到户资产必填，多个户编号用空格、逗号或换行分隔。"),
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, projects: Any, villages: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("ModelChoiceField[Project]", self.fields["project"]).queryset = projects.order_by(
            "-year", "name"
        )
        cast("ModelChoiceField[Region]", self.fields["village"]).queryset = villages.filter(
            level=Region.Level.VILLAGE
        ).order_by("code")

    def household_numbers(self) -> list[str]:
        return _numbers(self.cleaned_data.get("households") or "")


class AssetIncomeForm(house.Form):
    year = forms.IntegerField(label=_("收益年度"), min_value=2010, max_value=2100)
    amount = money_field(_("收益金额（元）"), required=True)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class AssetDistributionForm(house.Form):
    ids = "distribution_%s"  # beside the income form, which has a year and an amount too
    year = forms.IntegerField(label=_("收益年度"), min_value=2010, max_value=2100)
    household_number = forms.CharField(label=_("户编号"), max_length=32)
    amount = money_field(_("分配金额（元，填0删除）"), required=True)
    paid_on = forms.DateField(label=_("发放日期"), widget=DATE, required=False)
