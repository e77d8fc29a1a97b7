"""The sign-off page's forms: shape only; the rules are in `years.signoff`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from povertyapp.forms import Form


class SignForm(Form):
    """Submit (a village) or sign (a township, the county): the explanation of what is still
    open, required by the service when warnings stand."""

    explanation = forms.CharField(
        label=_("未清事项说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(Form):
    """Return or reopen: the reason is required."""

    reason = forms.CharField(
        label=_("理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
