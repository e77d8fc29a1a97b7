"""The platform's form rules (povertyapp/forms.py) on fields no project form has yet, so that
the first form to use them is right: datetimes, numbers in exponent form, fields added in
`__init__`, ISO and the language's own date format both accepted."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import translation

from povertyapp import forms as house
from tests.html_forms import browser_data


class Sample(house.Form):
    on = forms.DateField(label="日期")
    at = forms.DateTimeField(label="时间")
    amount = forms.DecimalField(label="金额", decimal_places=2)
    count = forms.IntegerField(label="人数")
    text = forms.CharField(label="说明", widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["added"] = forms.DateField(label="后加日期", required=True)


INITIAL = {
    "on": datetime.date(2026, 12, 3),
    "at": datetime.datetime(2026, 12, 3, 1, 30, tzinfo=datetime.UTC),
    "amount": Decimal("1E+3"),
    "count": 18152,
    "text": "第一行\n第二行",
    "added": datetime.date(2020, 1, 31),
}


def test_every_input_holds_a_machine_value_in_chinese(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("zh-hans"):
        posted = browser_data(str(Sample(initial=INITIAL)))
    local = datetime.datetime(2026, 12, 3, 1, 30, tzinfo=datetime.UTC).astimezone(
        zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    assert posted.rejected == []
    assert {name: control["value"] for name, control in posted.inputs.items()} == {
        "on": "2026-12-03",
        "at": local.strftime("%Y-%m-%dT%H:%M"),
        "amount": "1000",
        "count": "18152",
        "text": "第一行\n第二行",
        "added": "2020-01-31",
    }
    assert {name: control["type"] for name, control in posted.inputs.items()} == {
        "on": "date",
        "at": "datetime-local",
        "amount": "number",
        "count": "number",
        "text": "textarea",
        "added": "date",
    }


def test_what_the_browser_sends_back_is_the_stored_value():
    with translation.override("zh-hans"):
        posted = browser_data(str(Sample(initial=INITIAL)))
        bound = Sample(posted.data(), initial=INITIAL)
        assert bound.is_valid(), bound.errors
        assert bound.changed_data == []
    assert bound.cleaned_data == INITIAL | {"amount": Decimal("1000")}


def test_iso_and_the_languages_own_date_format_are_both_accepted():
    data = {"at": "2026-12-03T09:30", "amount": "1", "count": "1", "text": "x"}
    for language, typed in (("zh-hans", "2026/12/03"), ("en", "12/03/2026")):
        with translation.override(language):
            for value in ("2026-12-03", typed):
                form = Sample(data | {"on": value, "added": value})
                assert form.is_valid(), form.errors
                assert form.cleaned_data["on"] == datetime.date(2026, 12, 3)
