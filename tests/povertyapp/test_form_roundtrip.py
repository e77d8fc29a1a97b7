"""A form saved unchanged changes nothing, in Chinese and in English.

For every form class of the project (found by walking the apps, `form_cases.py`) a realistic
form is built the way its view builds it, rendered, read back the way a browser reads it (an
`<input type=date>` holding `2026/12/03` sends "", `tests/html_forms.py`) and bound to exactly
what the browser would send: it must be valid and report no field changed. The pages that edit
a stored object are then saved unchanged through the test client, and no row of the database
may differ afterwards.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from django.conf import settings
from django.db import models
from django.forms import BaseForm, model_to_dict
from django.forms.formsets import BaseFormSet
from django.test import Client
from django.utils import translation

from povertyapp import forms as house
from tests.conftest import login
from tests.html_forms import browser_data, form_holding
from tests.povertyapp.form_cases import (
    CASES,
    EDIT_PAGES,
    NOT_ROUND_TRIPPED,
    PAGES_OF_FORMS,
    World,
    differences,
    project_filtersets,
    project_form_classes,
    snapshot,
)

LANGUAGES = ["zh-hans", "en"]


@pytest.fixture
def world(cast, county) -> World:
    return World(cast, county)


def test_every_form_class_of_the_project_has_a_round_trip_case():
    found = set(project_form_classes())
    assert "households.forms.HouseholdForm" in found  # the walk does find forms
    assert "households.forms.MemberFormSet" in found  # and formsets built by formset_factory
    assert sorted(found - set(CASES) - set(NOT_ROUND_TRIPPED)) == []
    assert sorted((set(CASES) | set(NOT_ROUND_TRIPPED)) - found) == []


def test_every_form_class_follows_the_house_rules():
    """Built on povertyapp.forms.Form / ModelForm, which give ISO date inputs, machine numbers
    and the one "required" wording to every field, including those added in `__init__`."""
    outside = []
    for name, cls in project_form_classes().items():
        form_class = cls.form if issubclass(cls, BaseFormSet) else cls
        if not issubclass(form_class, house.Form | house.ModelForm):
            outside.append(name)
    assert outside == []


def test_every_filter_form_follows_the_house_rules():
    filtersets = project_filtersets()
    assert "households.filters.HouseholdFilter" in filtersets
    assert [
        name
        for name, filterset in filtersets.items()
        if not issubclass(filterset._meta.form, house.Form)  # type: ignore[attr-defined]  # _meta is set by the FilterSet metaclass
    ] == []


def _same(expected: Any, actual: Any) -> bool:
    """Equal as stored: a model by key, blank as None, numbers (money typed as text) by value."""
    if isinstance(expected, models.Model):
        expected = expected.pk
    if isinstance(actual, models.Model):
        actual = actual.pk
    if expected in (None, "", []) and actual in (None, "", []):
        return True
    if isinstance(expected, Decimal | int | float) and not isinstance(expected, bool):
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except InvalidOperation:
            return False
    if isinstance(expected, list) and isinstance(actual, str):
        return "、".join(expected) == actual
    return bool(expected == actual)


def _changed(form: BaseForm) -> list[str]:
    return [
        name
        for name in form.changed_data
        if not _same(form[name].initial, form.cleaned_data.get(name))
    ]


def _forms_of(form: Any) -> list[BaseForm]:
    return list(form.forms) if isinstance(form, BaseFormSet) else [form]


def _date_inputs(html: str) -> list[str]:
    return [
        name
        for name, control in browser_data(html).inputs.items()
        if control["type"] == "date" and control["value"]
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_form_saved_unchanged_is_valid_and_changes_nothing(world, name, language):
    build = CASES[name]
    with translation.override(language):
        shown = build(world, None)
        html = str(shown)
        # A label reads "理由", not "理由:" (Django's suffix stays half-width in Chinese).
        assert [
            str(field.label_tag())
            for form in _forms_of(shown)
            for field in form
            if re.search(r"[:：]</label>", str(field.label_tag()))
        ] == []
        posted = browser_data(html)
        assert posted.rejected == []  # no value the browser would throw away
        bound = build(world, posted.data())
        assert bound.is_valid(), bound.errors
        assert [(index, _changed(form)) for index, form in enumerate(_forms_of(bound))] == [
            (index, []) for index, _form in enumerate(_forms_of(bound))
        ]
        if isinstance(bound, BaseForm) and hasattr(bound, "instance") and bound.instance.pk:
            stored = type(bound.instance).objects.get(pk=bound.instance.pk)
            before = model_to_dict(stored)
            assert model_to_dict(bound.save(commit=False)) == before


def test_a_stored_date_is_rendered_iso_in_chinese(world):
    """The defect itself: zh-hans DATE_INPUT_FORMATS[0] is %Y/%m/%d."""
    with translation.override("zh-hans"):
        html = str(CASES["assistance.forms.MeasureForm"](world, None))
    assert 'type="date" name="planned_start" value="2020-03-15"' in html
    assert 'type="date" name="planned_end" value="2020-12-03"' in html
    assert "2020/03/15" not in html


def test_numbers_and_money_render_as_machine_numbers_in_both_languages(world, settings):
    settings.USE_THOUSAND_SEPARATOR = True  # even if someone turns grouping on
    for language in LANGUAGES:
        with translation.override(language):
            measure_html = str(CASES["assistance.forms.MeasureForm"](world, None))
            income_html = str(CASES["households.forms.IncomeForm"](world, None))
            finding_html = str(CASES["inspections.forms.FindingForm"](world, None))
        assert 'name="amount" value="12345.67"' in measure_html
        assert 'name="wage" value="12000.00"' in income_html
        assert 'name="verified_per_capita_income" value="5234.50"' in finding_html


# --- through the pages -------------------------------------------------------------------------


def _client(user: Any, language: str) -> Client:
    client = login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_every_form_says_which_page_saves_it_unchanged_or_why_none_does():
    """A form that edits a stored object names its page(s) in `EDIT_PAGES`; any other form
    says what it does instead (creates a record, performs an action). New forms must choose."""
    assert sorted(set(CASES) ^ set(PAGES_OF_FORMS)) == []
    named: set[str] = set()
    for pages in PAGES_OF_FORMS.values():
        if isinstance(pages, tuple):
            named.update(pages)
    assert sorted(named ^ set(EDIT_PAGES)) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", sorted(EDIT_PAGES))
def test_page_saved_unchanged_changes_no_row(world, page, language):
    user, url, field = EDIT_PAGES[page](world)
    client = _client(user, language)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    form = form_holding(html, field)
    assert form.rejected == []
    before = snapshot()
    answer = client.post(form.action or url, form.data())
    errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.content.decode(), re.S)
    assert (answer.status_code, errors) == (302, [])
    assert differences(before, snapshot()) == []


def test_household_with_a_member_without_id_card_saves_unchanged(world, client_for):
    """The issue's case: 证件类型 其他, birth date stored, nothing derived from an ID number."""
    member = world.other_id_member
    assert (member.id_type, member.id_number, member.birth_date) == (
        "其他",
        "",
        datetime.date(2009, 11, 23),
    )
    client = client_for(world.cast.cadre)
    html = client.get(f"/households/{world.household.pk}/edit/").content.decode()
    form = form_holding(html, "members-2-birth_date")
    assert form.inputs["members-2-birth_date"] == {"type": "date", "value": "2009-11-23"}
    answer = client.post(f"/households/{world.household.pk}/edit/", form.data())
    assert answer.status_code == 302
    member.refresh_from_db()
    assert member.birth_date == datetime.date(2009, 11, 23)


def test_a_stored_label_no_longer_in_its_list_is_offered_and_never_silently_replaced(
    world, client_for
):
    """A value-list label retired since it was recorded: the select still offers it (marked
    已停用), so an unchanged save sends it back; the service then says it is no longer in the
    list, beside the field, instead of the page erasing it."""
    household = world.household
    type(household).objects.filter(pk=household.pk).update(other_cause_1="旧致贫原因")
    member = world.other_id_member
    type(member).objects.filter(pk=member.pk).update(health="健康、旧健康状况")
    household.refresh_from_db()
    with translation.override("zh-hans"):
        html = str(CASES["households.forms.HouseholdForm"](world, None))
        members_html = str(CASES["households.forms.MemberFormSet"](world, None))
        assert '<option value="旧致贫原因" selected>旧致贫原因（已停用）</option>' in html
        posted = browser_data(html)
        assert posted.inputs["other_cause_1"]["value"] == "旧致贫原因"
        bound = CASES["households.forms.HouseholdForm"](world, posted.data())
        assert bound.is_valid(), bound.errors
        assert bound.cleaned_data["other_cause_1"] == "旧致贫原因"
        members = CASES["households.forms.MemberFormSet"](world, browser_data(members_html).data())
        assert members.is_valid(), members.errors
        assert members.forms[2].cleaned_data["health"] == "健康、旧健康状况"

    client = client_for(world.cast.cadre)
    url = f"/households/{household.pk}/edit/"
    before = snapshot()
    form = form_holding(client.get(url).content.decode(), "other_cause_1")
    answer = client.post(url, form.data())
    assert answer.status_code == 200
    assert "“旧致贫原因”不在致贫原因代码表中。" in answer.content.decode()
    assert differences(before, snapshot()) == []
