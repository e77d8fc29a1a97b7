"""One wording for "required": `请填写<label>。` ("Please enter <label>."), on every form of the
project and for the model checks the services run; never Django's raw "这个字段是必填项。",
"这个值不能为 null。", "此字段不能为空。" (nor DRF's "该字段是必填项。")."""

from __future__ import annotations

import datetime
import inspect
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.test import Client
from django.utils import translation

from households.models import Member
from tests.html_forms import browser_data, form_holding
from tests.povertyapp.form_cases import CASES, NOT_ROUND_TRIPPED, World, project_form_classes

RAW_MESSAGES = {
    "zh-hans": [
        "这个字段是必填项。",
        "该字段是必填项。",
        "这个值不能为 null。",
        "此字段不能为空。",
    ],
    "en": [
        "This field is required.",
        "This field cannot be null.",
        "This field cannot be blank.",
    ],
}
# (with the field's label, without one)
WORDING = {
    "zh-hans": ("请填写%s。", "请填写此项。"),
    "en": ("Please enter %s.", "Please enter this field."),
}
LANGUAGES = ["zh-hans", "en"]


def expected_required(label: Any, language: str) -> str:
    with_label, without = WORDING[language]
    return with_label % label if label else without


@pytest.fixture
def world(cast, county) -> World:
    return World(cast, county)


def _empty_post(world: World, name: str) -> Any:
    """The form as its view builds it, bound to an empty submission (a formset keeps its
    management form, and its first row is empty)."""
    build = CASES.get(name)
    if build is None:
        form_class = project_form_classes()[name]
        # A form scoped to its user (a region select) takes the county office, who opens it.
        if "user" in inspect.signature(form_class.__init__).parameters:
            return form_class({}, {}, user=world.cast.county)
        return form_class({}, {})
    shown = build(world, None)
    data: dict[str, str] = {}
    if isinstance(shown, BaseFormSet):
        management = browser_data(str(shown.management_form)).data()
        data = {key: management[key] for key in management}
        data[f"{shown.prefix}-TOTAL_FORMS"] = "1"
        data[f"{shown.prefix}-INITIAL_FORMS"] = "0"
    return build(world, data)


def _forms_of(form: Any) -> list[BaseForm]:
    return list(form.forms) if isinstance(form, BaseFormSet) else [form]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(set(CASES) | set(NOT_ROUND_TRIPPED)))
def test_every_required_field_left_empty_says_the_one_wording(world, name, language):
    with translation.override(language):
        bound = _empty_post(world, name)
        assert bound.is_valid() is False or not any(
            field.required for form in _forms_of(bound) for field in form.fields.values()
        )
        for form in _forms_of(bound):
            required = {
                field_name: expected_required(field.label, language)
                for field_name, field in form.fields.items()
                if field.required and not field.disabled
            }
            got = {
                field_name: [str(message) for message in form.errors.get(field_name, [])]
                for field_name in required
            }
            assert got == {field_name: [message] for field_name, message in required.items()}
            shown = " ".join(
                str(message) for messages in form.errors.values() for message in messages
            )
            assert [raw for raw in RAW_MESSAGES[language] if raw in shown] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_model_checks_say_the_one_wording(language):
    """`full_clean()` of every model: an empty field gets `请填写<verbose_name>。`."""
    wrong = []
    with translation.override(language):
        for model in apps.get_models(include_auto_created=True):
            for field in model._meta.concrete_fields:
                for code in ("null", "blank"):
                    message = str(field.error_messages.get(code, ""))
                    if message != expected_required(field.verbose_name, language):
                        wrong.append((model._meta.label, field.name, code, message))
    assert wrong == []


def test_member_saved_without_birth_date_is_told_once_in_the_house_wording(cast, county):
    """The message the issue quotes, "请填写出生日期。这个值不能为 null。", is now one sentence."""
    with translation.override("zh-hans"):
        member = Member(name="王小五", relation="之子", sex="男", id_type="其他", birth_date=None)
        with pytest.raises(ValidationError) as error:
            member.clean_fields(exclude=["household"])
    assert error.value.message_dict["birth_date"] == ["请填写出生日期。"]


def test_household_page_shows_one_message_for_an_empty_birth_date(world, client_for):
    member = world.other_id_member
    client = client_for(world.cast.cadre)
    url = f"/households/{world.household.pk}/edit/"
    posted = form_holding(client.get(url).content.decode(), "members-2-birth_date").data()
    posted["members-2-birth_date"] = ""
    answer = client.post(url, posted)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert html.count("请填写出生日期。") == 1
    assert [raw for raw in RAW_MESSAGES["zh-hans"] if raw in html] == []
    member.refresh_from_db()
    assert member.birth_date == datetime.date(2009, 11, 23)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "message"), [("zh-hans", "请填写此项。"), ("en", "Please enter this field.")]
)
def test_api_and_framework_forms_say_the_one_wording(language, message):
    """Where no label is at hand (DRF serializers, Django's own login form) the catalogs give
    the house wording without the label, never the frameworks' own."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    answer = client.post("/api/v1/auth/token/", {}, content_type="application/json")
    assert (answer.status_code, answer.json()) == (
        400,
        {"username": [message], "password": [message]},
    )
    with translation.override(language):
        login_form = AuthenticationForm(data={})
        assert login_form.errors == {"username": [message], "password": [message]}
