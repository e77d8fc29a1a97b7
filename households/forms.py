"""Forms of the cadre pages. They check shape (types, lengths, value lists offered); the rules
across fields and records stay in the services, whose errors the views map back onto the fields
(`members.2.id_number` → the third member form's `id_number`)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import Model
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Household, Member
from households.selectors import province_of
from households.services import HOUSEHOLD_FIELDS, MEMBER_FIELDS, ValueList
from households.value_lists import value_lists
from povertyapp import forms as house
from povertyapp import roles, uploads
from povertyapp.models import Region, User

HOUSEHOLD_CHOICE_FIELDS = {
    "poverty_attribute": ValueList.POVERTY_ATTRIBUTE,
    "main_cause": ValueList.CAUSE,
    "other_cause_1": ValueList.CAUSE,
    "other_cause_2": ValueList.CAUSE,
    "road_type": ValueList.ROAD_TYPE,
    "house_grade": ValueList.HOUSE_GRADE,
    "fuel_type": ValueList.FUEL_TYPE,
    "relocation_mode": ValueList.RELOCATION_MODE,
}
MEMBER_CHOICE_FIELDS = {
    "id_type": ValueList.ID_TYPE,
    "relation": ValueList.RELATION,
    "ethnicity": ValueList.ETHNICITY,
    "political_status": ValueList.POLITICAL_STATUS,
    "education": ValueList.EDUCATION,
    "school_status": ValueList.SCHOOL_STATUS,
    "labour_skill": ValueList.LABOUR_SKILL,
    "work_status": ValueList.WORK_STATUS,
    "living_status": ValueList.LIVING_STATUS,
}
NULLABLE_BOOLEANS = {
    "water_safe",
    "water_difficult",
    "has_sanitary_toilet",
    "food_secure",
    "clothing_secure",
}

# Sections of the household form, in the order of the national registration form.
HOUSEHOLD_SECTIONS = (
    (
        _("基本情况"),
        (
            "village",
            "group",
            "phone",
            "bank_name",
            "bank_account",
            "identification_standard",
            "poverty_attribute",
            "main_cause",
            "other_cause_1",
            "other_cause_2",
            "cause_note",
            "first_identified_year",
            "planned_exit_year",
            "is_military_family",
            "in_cooperative",
        ),
    ),
    (
        _("生产条件"),
        (
            "cultivated_land",
            "irrigated_land",
            "forest_land",
            "returned_farmland",
            "orchard_land",
            "pasture_land",
            "water_surface",
            "has_production_power",
        ),
    ),
    (
        _("生活条件"),
        (
            "has_household_power",
            "has_broadcast_tv",
            "distance_to_road_km",
            "road_type",
            "housing_area",
            "house_grade",
            "house_renovated",
            "water_safe",
            "water_difficult",
            "fuel_type",
            "has_sanitary_toilet",
            "relocated",
            "relocation_mode",
            "relocation_place",
        ),
    ),
    (_("两不愁"), ("food_secure", "clothing_secure")),
)


class NullBooleanChoice(forms.NullBooleanSelect):
    def __init__(self, attrs: Any = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", _("未录入")), ("true", _("是")), ("false", _("否"))]


def _choices(labels: list[str], *, blank: bool = True) -> list[tuple[str, str]]:
    items = [(label, label) for label in labels]
    return [("", "—")] + items if blank else items


def lists_for_user(user: User, year: int | None = None) -> dict[str, list[str]]:
    year = year or timezone.localdate().year
    province = province_of(user.region) if user.region is not None else None
    return value_lists(year=year, province=province)


class HouseholdForm(house.Form):
    """Every household field of DOMAIN §2. `version` is the optimistic lock."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, lists: dict[str, list[str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        model_fields = forms.fields_for_model(
            Household, fields=[f for f in HOUSEHOLD_FIELDS if f not in ("village", "group")]
        )
        villages = Region.objects.filter(level=Region.Level.VILLAGE)
        # Any village is accepted by the form; the service refuses one outside the scope with
        # its own message (a hand-edited form gets told why, not "invalid choice").
        self.fields["village"] = forms.ModelChoiceField(
            queryset=villages,
            label=_("行政村"),
            error_messages={"invalid_choice": _("所选行政村不存在。")},
        )
        self.fields["group"] = forms.ModelChoiceField(
            queryset=Region.objects.filter(level=Region.Level.GROUP),
            label=_("村民小组"),
            required=False,
            error_messages={"invalid_choice": _("所选村民小组不存在。")},
        )
        scoped = roles.region_scope(user)
        blank: list[tuple[int | str, str]] = [("", "—")]
        self.fields["village"].widget.choices = blank + [
            (region.pk, region.name)
            for region in scoped.filter(level=Region.Level.VILLAGE, ended_on__isnull=True).order_by(
                "code"
            )
        ]
        self.fields["group"].widget.choices = blank + [
            (region.pk, f"{region.parent.name} · {region.name}" if region.parent else region.name)
            for region in scoped.filter(level=Region.Level.GROUP, ended_on__isnull=True)
            .select_related("parent")
            .order_by("code")
        ]
        for name in HOUSEHOLD_FIELDS:
            if name in ("village", "group"):
                continue
            field = model_fields[name]
            if name in HOUSEHOLD_CHOICE_FIELDS:
                field = forms.ChoiceField(
                    label=field.label,
                    required=False,
                    choices=_choices(lists.get(HOUSEHOLD_CHOICE_FIELDS[name], [])),
                )
            elif name in NULLABLE_BOOLEANS:
                field = forms.NullBooleanField(
                    label=field.label, required=False, widget=NullBooleanChoice
                )
            elif isinstance(field, forms.DecimalField):
                field.required = False
                _not_negative(field)
            elif isinstance(field, forms.IntegerField):
                field.widget.attrs["inputmode"] = "numeric"
            self.fields[name] = field
        self.fields["main_cause"].help_text = _("建档立卡户必填；发起识别前必须填写。")
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in HOUSEHOLD_SECTIONS]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs type that as optional
        for name, field in self.fields.items():
            if (
                isinstance(field, forms.DecimalField)
                and data.get(name) is None
                and (name != "housing_area")
            ):
                data[name] = Decimal("0")
        return data

    def service_data(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name)
            for name in HOUSEHOLD_FIELDS
            if name in self.cleaned_data
        }


class MemberForm(house.Form):
    """One member row of the inline formset. `id` is empty for a member being added."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, lists: dict[str, list[str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        lists = lists or {}
        model_fields = forms.fields_for_model(Member, fields=list(MEMBER_FIELDS))
        for name in MEMBER_FIELDS:
            field = model_fields[name]
            if name in MEMBER_CHOICE_FIELDS:
                field = forms.ChoiceField(
                    label=field.label,
                    required=name in ("relation",),
                    choices=_choices(
                        lists.get(MEMBER_CHOICE_FIELDS[name], []),
                        blank=name not in ("id_type", "living_status"),
                    ),
                )
            elif name == "health":
                field = forms.MultipleChoiceField(
                    label=field.label,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    choices=_choices(lists.get(ValueList.HEALTH, []), blank=False),
                )
            elif name == "sex":
                field = forms.ChoiceField(
                    label=field.label,
                    choices=[("", "—")] + list(Member.Sex.choices),
                    required=False,
                )
            elif name == "birth_date":
                field = forms.DateField(
                    label=field.label,
                    required=False,
                    widget=house.DateInput(),
                )
            elif name == "work_months":
                field.required = False
                field.min_value = 0
                field.widget.attrs.update({"inputmode": "numeric", "min": 0, "max": 12})
                field.validators.append(_months_validator)
            self.fields[name] = field
        self.fields["id_number"].widget.attrs.update(
            {
                "data-id-number": "1",
                "autocomplete": "off",
                "inputmode": "text",
                "spellcheck": "false",
                "maxlength": 18,
            }
        )
        self.fields["id_number"].help_text = _(
            "输入后自动填写出生日期、性别和年龄，并校验最后一位。"
        )
        self.fields["birth_date"].widget.attrs["data-birth-date"] = "1"
        self.fields["sex"].widget.attrs["data-sex"] = "1"
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        if "id_type" in self.fields and not self.initial.get("id_type"):
            self.initial.setdefault("id_type", "居民身份证")

    def clean_health(self) -> str:
        return "、".join(self.cleaned_data.get("health") or [])

    def clean_work_months(self) -> int:
        value = self.cleaned_data.get("work_months")
        return 0 if value is None else value

    def service_row(self) -> dict[str, Any]:
        row = {name: self.cleaned_data.get(name) for name in MEMBER_FIELDS}
        row = {
            key: ("" if value is None and key not in ("birth_date",) else value)
            for key, value in row.items()
        }
        if self.cleaned_data.get("id"):
            row["id"] = self.cleaned_data["id"]
        return row


def _not_negative(field: forms.DecimalField) -> None:
    """Areas, distances and money are never negative (the models say so; the form says it
    beside the field before anything reaches the service)."""
    field.validators.append(MinValueValidator(Decimal("0")))
    field.widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": "0"})


def _months_validator(value: int | None) -> None:
    if value is not None and not 0 <= value <= 12:
        raise ValidationError(_("务工时间应在0到12个月之间。"), code="work_months_range")


class BaseMemberFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, lists: dict[str, list[str]] | None = None, **kwargs: Any):
        self.lists = lists or {}
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"lists": self.lists}

    def add_non_form_error(self, error: Any) -> None:
        self._non_form_errors = self.non_form_errors()
        self._non_form_errors.extend(error if isinstance(error, list) else [error])


# formset_factory returns the class built on BaseMemberFormSet; the stubs say only BaseFormSet.
MemberFormSet = cast(
    "type[BaseMemberFormSet]",
    formset_factory(
        MemberForm,
        formset=BaseMemberFormSet,
        extra=0,
        max_num=30,
        validate_max=True,
        min_num=1,
        validate_min=True,
    ),
)


def member_initial(member: Member) -> dict[str, Any]:
    data = {name: getattr(member, name) for name in MEMBER_FIELDS}
    data["health"] = member.health_conditions
    data["id"] = member.pk
    return data


def household_initial(household: Household) -> dict[str, Any]:
    data = {name: getattr(household, name) for name in HOUSEHOLD_FIELDS}
    data["version"] = household.version
    return data


class JoinReasonForm(house.Form):
    join_reason = forms.ChoiceField(label=_("增员原因（新增成员时）"), required=False)

    def __init__(self, *args: Any, lists: dict[str, list[str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["join_reason"]).choices = _choices(
            lists.get(ValueList.JOIN_REASON, [])
        )


class MemberRemoveForm(house.Form):
    reason = forms.ChoiceField(label=_("减员原因"))
    effective_date = forms.DateField(label=_("减员日期"), widget=house.DateInput())
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, lists: dict[str, list[str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reason"]).choices = _choices(
            lists.get(ValueList.LEAVE_REASON, [])
        )


class MemberMoveForm(house.Form):
    to_number = forms.CharField(label=_("迁入户的户编号"), max_length=32)
    relation = forms.ChoiceField(label=_("在迁入户中与户主关系"))
    effective_date = forms.DateField(label=_("迁移日期"), widget=house.DateInput())
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args: Any, lists: dict[str, list[str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["relation"]).choices = _choices(
            lists.get(ValueList.RELATION, [])
        )


def _check_evidence(upload: Any) -> Any:
    """Size and content are checked by the field (`uploads.EvidenceField`); kept as the hook
    for rules of these forms of their own."""
    return upload


class StepForm(house.Form):
    opinion = forms.CharField(
        label=_("办理意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attendance = forms.IntegerField(
        label=_("参会人数"), min_value=1, max_value=5000, required=False
    )
    evidence = uploads.EvidenceField(
        label=_("佐证材料（会议记录、照片或扫描件：jpg、png、pdf）"),
        required=False,
        accept=uploads.IMAGES_AND_PDF,
    )
    # The day the step was done (a meeting is often entered days later); blank is today. The
    # legal order of the dates is the service's rule.
    acted_on = forms.DateField(label=_("办理日期"), required=False, widget=house.DateInput())
    # 入户核实 only (a step marked `photos`): the page shows the input there.
    photos = uploads.PhotoField(
        label=_("现场照片"),
        help_text=_("可拍摄或选择多张照片（JPG或PNG），手机上会先缩小再上传。"),
    )
    photo_meta = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20000)

    def clean_evidence(self) -> Any:
        return _check_evidence(self.cleaned_data.get("evidence"))


class ReturnForm(house.Form):
    ids = "return_%s"  # beside the step's form, which has an opinion too
    to_step = forms.ChoiceField(label=_("退回到"), required=False)
    opinion = forms.CharField(
        label=_("退回理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, targets: list[tuple[str, Any]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The earlier steps the current step may send the case back to (households.workflows).
        cast(forms.ChoiceField, self.fields["to_step"]).choices = targets or []


class WithdrawForm(house.Form):
    reason = forms.CharField(
        label=_("撤回理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoticeForm(house.Form):
    start_date = forms.DateField(label=_("公示开始日期"), widget=house.DateInput())
    days = forms.IntegerField(label=_("公示天数"), min_value=5, max_value=30, initial=7)
    phone = forms.CharField(
        label=_("监督举报电话"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    place = forms.CharField(label=_("公示地点"), max_length=128, required=False)


class ObjectionForm(house.Form):
    received_on = forms.DateField(label=_("受理日期"), widget=house.DateInput())
    objector = forms.CharField(label=_("反映人（可匿名）"), max_length=32, required=False)
    content = forms.CharField(
        label=_("异议内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StartForm(house.Form):
    opinion = forms.CharField(
        label=_("申请情况"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The day the application was received (blank is today): the statutory clock runs from it.
    effective_date = forms.DateField(label=_("受理日期"), required=False, widget=house.DateInput())
    evidence = uploads.EvidenceField(
        label=_("申请书（可选）"),
        required=False,
        accept=uploads.IMAGES_AND_PDF,
    )

    def __init__(self, *args: Any, kind: str = "identification", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if kind != "identification":
            # An exit (and later procedures) starts from the village, not from an application.
            self.fields["opinion"].label = _("情况说明")
            self.fields["evidence"].label = _("佐证材料")

    def clean_evidence(self) -> Any:
        return _check_evidence(self.cleaned_data.get("evidence"))


class ExplainForm(house.Form):
    explanation = forms.CharField(
        label=_("情况说明"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(house.Form):
    accept = forms.TypedChoiceField(
        label=_("审核结果"),
        coerce=lambda v: v == "1",
        choices=[("1", _("认可")), ("0", _("不认可"))],
    )
    note = forms.CharField(label=_("审核意见"), max_length=255, required=False)


# --- batches (one meeting, one 公示, one review for many households) ----------------------


class BatchCreateForm(house.Form):
    """A village opens a batch: open cases of its households at one step and/or households to
    start a case for. The choices are the village's, offered by the view."""

    name = forms.CharField(label=_("批次名称（可不填）"), max_length=64, required=False)
    cases = forms.TypedMultipleChoiceField(
        label=_("已发起的案件"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    households = forms.TypedMultipleChoiceField(
        label=_("为以下农户发起"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    opened_on = forms.DateField(
        label=_("受理日期（新发起的案件）"), required=False, widget=house.DateInput()
    )
    opinion = forms.CharField(
        label=_("申请情况（新发起的案件）"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        case_choices: list[tuple[int, str]] | None = None,
        household_choices: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cases"]).choices = case_choices or []
        cast(forms.ChoiceField, self.fields["households"]).choices = household_choices or []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("cases") and not data.get("households"):
            raise ValidationError(_("请至少选择一户。"), code="batch_empty")
        return data


class _BatchRowsMixin:
    """Per-household exception fields, one pair per member: `reason_<case id>` (and, for a
    review, `return_to_<case id>`)."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def _add_rows(self, members: list[tuple[int, str]], targets: list[tuple[str, Any]]) -> None:
        self.member_ids = [member_id for member_id, _label in members]
        for member_id, label in members:
            if targets:
                self.fields[f"return_to_{member_id}"] = forms.ChoiceField(
                    label=_("%(household)s：处理") % {"household": label},
                    required=False,
                    choices=[("", _("通过"))]
                    + [(key, _("退回至“%(step)s”") % {"step": text}) for key, text in targets],
                )
            self.fields[f"reason_{member_id}"] = forms.CharField(
                label=_("%(household)s：理由") % {"household": label},
                max_length=500,
                required=False,
            )

    def rows(self) -> list[dict[str, Any]]:
        bound = cast(forms.Form, self)
        return [
            {
                "id": member_id,
                "return_to": bound[f"return_to_{member_id}"]
                if f"return_to_{member_id}" in self.fields
                else None,
                "reason": bound[f"reason_{member_id}"],
            }
            for member_id in self.member_ids
        ]

    def exceptions(self) -> tuple[dict[int, str], dict[int, str]]:
        """(case id → reason, case id → step to return to) of the excepted households."""
        reasons, targets = {}, {}
        for member_id in self.member_ids:
            reason = (self.cleaned_data.get(f"reason_{member_id}") or "").strip()
            target = self.cleaned_data.get(f"return_to_{member_id}") or ""
            if f"return_to_{member_id}" in self.fields:
                if target:
                    reasons[member_id] = reason
                    targets[member_id] = target
            elif reason:
                reasons[member_id] = reason
        return reasons, targets


class BatchMeetingForm(_BatchRowsMixin, house.Form):
    """One 民主评议 meeting for every member at that step; a household the meeting did not pass
    gets a reason (it is withdrawn alone)."""

    meeting_date = forms.DateField(label=_("评议会议日期"), widget=house.DateInput())
    attendance = forms.IntegerField(label=_("参会人数"), min_value=1, max_value=5000)
    opinion = forms.CharField(
        label=_("评议意见"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    minutes = uploads.EvidenceField(
        label=_("会议记录（扫描件或照片：jpg、png、pdf）"),
        required=False,
        accept=uploads.IMAGES_AND_PDF,
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._add_rows(members or [], [])


class BatchStepForm(_BatchRowsMixin, house.Form):
    """One action on every member at a step (a verification, a review, the end of a 公示), with
    per-household exceptions sent back alone to a named earlier step."""

    opinion = forms.CharField(
        label=_("办理意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    acted_on = forms.DateField(label=_("办理日期"), required=False, widget=house.DateInput())

    def __init__(
        self,
        *args: Any,
        members: list[tuple[int, str]] | None = None,
        targets: list[tuple[str, Any]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._add_rows(members or [], targets or [])


class BatchNoticeForm(NoticeForm):
    """One 公示 for every member at the notice step (same start, length, phone and place)."""


class RoundReviewForm(house.Form):
    """The township reviews every proposed line of a village (or of the township) in one post;
    a line with a reason is returned, the others pass."""

    region = forms.ChoiceField(label=_("审核范围"))
    opinion = forms.CharField(label=_("审核意见"), max_length=500, required=False)

    def __init__(
        self,
        *args: Any,
        regions: list[tuple[str, str]] | None = None,
        lines: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["region"]).choices = regions or []
        self.line_ids = [line_id for line_id, _label in lines or []]
        for line_id, label in lines or []:
            self.fields[f"return_{line_id}"] = forms.CharField(
                label=_("%(line)s：退回理由") % {"line": label}, max_length=500, required=False
            )

    def exceptions(self) -> dict[int, str]:
        return {
            line_id: reason
            for line_id in self.line_ids
            if (reason := (self.cleaned_data.get(f"return_{line_id}") or "").strip())
        }


def today() -> datetime.date:
    return timezone.localdate()


def same_value(a: Any, b: Any) -> bool:
    """Equal as a user would judge: model instances by key, blank equals None, numbers by value."""
    if isinstance(a, Model):
        a = a.pk
    if isinstance(b, Model):
        b = b.pk
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except Exception:
            return False
    return a == b


def widget_value(form: forms.Form, name: str, value: Any) -> Any:
    """A model value as the field's widget posts it (to put someone else's change in the form)."""
    field = form.fields[name]
    if isinstance(field.widget, forms.NullBooleanSelect):
        return {True: "true", False: "false"}.get(value, "unknown")
    if isinstance(field.widget, forms.CheckboxInput):
        return "on" if value else None
    if value is None:
        return ""
    return str(value)


class IncomeForm(house.Form):
    """A household's income for one year (上年度收入); money is Decimal, never negative."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from households.models import HouseholdIncome
        from households.services import INCOME_FIELDS

        super().__init__(*args, **kwargs)
        for name, field in forms.fields_for_model(
            HouseholdIncome, fields=list(INCOME_FIELDS)
        ).items():
            field.required = False
            _not_negative(field)
            self.fields[name] = field

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs type that as optional
        for name, field in self.fields.items():
            if (
                isinstance(field, forms.DecimalField)
                and data.get(name) is None
                and (name not in self.errors)
            ):
                data[name] = Decimal("0")
        return data


class OnboardingImportForm(house.Form):
    """The upload of an onboarding file (regions, village-year data, resident teams): the
    file passes the one door (`uploads.TableField`); the import checks everything else."""

    file = uploads.TableField(label=_("文件（xlsx或CSV）"))
    dry_run = forms.BooleanField(
        label=_("仅预检（不写入，先查看将新增和更新的条数）"), required=False, initial=True
    )

    def __init__(self, *args: Any, with_year: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_year:
            this_year = timezone.localdate().year
            self.fields["year"] = forms.IntegerField(
                label=_("年度"), min_value=2010, max_value=this_year + 1, initial=this_year
            )
