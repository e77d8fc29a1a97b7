"""Forms of the departments' lists and of exclusion scrutiny (the services check everything
again; these only shape the input)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.layouts import Layout
from monitoring.models import CadreRelation
from povertyapp.forms import Form
from povertyapp.uploads import SpreadsheetField


class ListUploadForm(Form):
    layout = forms.ChoiceField(label=_("名单类型"))
    period = forms.CharField(label=_("数据期间"), max_length=32, required=False)
    workbook = SpreadsheetField(label=_("名单文件（xlsx）"), inline=False)

    def __init__(self, *args: Any, layouts: list[Layout] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["layout"]).choices = [
            (
                layout.key,
                _("%(list)s（%(department)s）")
                % {"list": layout.label, "department": _department(layout)},
            )
            for layout in layouts or []
        ]
        self.fields["period"].widget.attrs["placeholder"] = _("如：2026年5月")


def _department(layout: Layout) -> str:
    from povertyapp.models import User

    return str(User.Department(layout.department).label)


class ScrutinyCheckForm(Form):
    result = forms.ChoiceField(
        label=_("核查结论"),
        choices=[("cleared", _("核查无问题")), ("confirmed", _("核查属实"))],
        widget=forms.RadioSelect,
    )
    finding = forms.CharField(
        label=_("核查情况"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ScrutinyReviewForm(Form):
    agree = forms.ChoiceField(
        label=_("复核意见"),
        choices=[("1", _("同意核查结论")), ("0", _("退回村里重新核查"))],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label=_("复核说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class RemovalProposalForm(Form):
    ground = forms.ChoiceField(label=_("剔除理由"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, grounds: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ground"]).choices = [
            (ground, ground) for ground in grounds or []
        ]


class CadreRelationForm(Form):
    id_number = forms.CharField(label=_("成员身份证号"), max_length=32)
    cadre_name = forms.CharField(label=_("干部姓名"), max_length=32)
    cadre_post = forms.ChoiceField(label=_("干部类别"), choices=CadreRelation.Post.choices)
    relation = forms.CharField(label=_("亲属关系"), max_length=16)
