from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from povertyapp import forms as house


class CodeForm(house.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=32,
        help_text=_("身份验证器显示的6位数字，或一个备用验证码。"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordConfirmForm(house.Form):
    password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
