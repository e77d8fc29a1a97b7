"""The platform's form rules, applied to every form of the project.

The classes of defect closed here, once, rather than form by form:

1. **Machine formats in inputs.** A browser's `<input type=date>` accepts only ISO `2026-12-03`;
   Django renders a pre-filled `DateInput` with the language's first `DATE_INPUT_FORMATS`, which
   for zh-hans is `2026/12/03`: the browser shows an empty field, an unchanged save posts nothing
   and the stored date is lost. So date inputs always render ISO, datetime inputs
   `2026-12-03T09:30` (`datetime-local`), numbers and money as plain machine numbers (`1234.50`:
   no grouping, a `.` decimal point) whatever the language; ISO is always accepted on input. The
   display of dates in pages (not inputs) stays in the user's language.
2. **One wording for "required".** Every required field left empty says `请填写<label>。`
   ("Please enter <label>."), never Django's generic "这个字段是必填项。"; the model-level
   "这个值不能为 null。" / "此字段不能为空。" get the same wording from `model_messages_install`.
3. **Text comes back as it was stored.** A browser posts a textarea's line breaks as CR LF;
   text fields turn them back into LF, so multi-line text saved unchanged is unchanged. A select
   always offers the stored value, even one no longer in its list (`_keep_stored_choice`).
4. **No `---------`.** A select's empty choice reads 请选择 (a required choice) or （无） (an
   optional one), never Django's placeholder (`_label_empty_choice`; a filter's reads 全部,
   `FILTERS_EMPTY_CHOICE_LABEL` in the settings).

`Form` and `ModelForm` apply the rules *after* the whole `__init__` chain has run (their
metaclass's `__call__`), so fields a form adds in its own `__init__` are covered too. Every form
class of the project derives from one of them; `tests/povertyapp/test_form_roundtrip.py` fails
for one that does not.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.forms.forms import DeclarativeFieldsMetaclass
from django.forms.models import ModelFormMetaclass
from django.utils import formats, timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%dT%H:%M"
# What `<input type=datetime-local>` may post: minutes, or seconds when the step allows them.
ISO_DATETIME_INPUTS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


class _IsoFirst(Collection[str]):
    """Input formats: the ISO ones first, then the active language's (read at parse time)."""

    def __init__(self, iso: tuple[str, ...], key: str) -> None:
        self.iso = iso
        self.key = key

    def __iter__(self) -> Iterator[str]:
        yield from self.iso
        for item in formats.get_format(self.key):
            if item not in self.iso:
                yield item

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, item: object) -> bool:
        return item in list(iter(self))


def _machine_number(value: Any) -> Any:
    """A number as an `<input>` must hold it: `1234.50`, never `1,234.50` or `1E+3`."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return value


class DateInput(forms.DateInput):
    """`<input type=date>` with an ISO value in every language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {key: value for key, value in (attrs or {}).items() if key != "type"}
        super().__init__(attrs=attrs, format=ISO_DATE)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.strftime(ISO_DATE)
        # Anything else is what the user typed (a form re-rendered with errors): keep it.
        return super().format_value(value)


class DateTimeInput(forms.DateTimeInput):
    """`<input type=datetime-local>` with `2026-12-03T09:30` in every language, in local time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {key: value for key, value in (attrs or {}).items() if key != "type"}
        super().__init__(attrs=attrs, format=ISO_DATETIME)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return value.strftime(ISO_DATETIME)
        return super().format_value(value)


class NumberInput(forms.NumberInput):
    """`<input type=number>` holding a machine number whatever the language."""

    def format_value(self, value: Any) -> str | None:
        return super().format_value(_machine_number(value))


class MoneyInput(forms.TextInput):
    """Money typed as text (the services parse it as Decimal): `1234.50`, decimal keypad."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"inputmode": "decimal", "placeholder": "0.00", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        return super().format_value(_machine_number(value))


def _required_message(label: Any) -> str:
    if label:
        return gettext("请填写%(label)s。") % {"label": label}
    return gettext("请填写此项。")


#: The house wording of "required", evaluated in the language of the moment it is shown.
required_message = lazy(_required_message, str)

_DJANGO_REQUIRED = forms.Field.default_error_messages["required"]

# The frameworks' own wordings of "required", translated to the house wording ("请填写此项。" /
# "Please enter this field.") by the project's catalogs for the places no label is at hand: DRF
# serializers and Django's own forms (login, admin). Named here so that `make messages` keeps
# their English entries.
FRAMEWORK_REQUIRED_MESSAGES = (
    gettext_noop("This field is required."),
    gettext_noop("This field cannot be null."),
    gettext_noop("This field cannot be blank."),
    gettext_noop("This field may not be null."),
    gettext_noop("This field may not be blank."),
)


def _replace_widget(field: forms.Field, widget: forms.Widget) -> None:
    widget.is_required = field.required
    widget.attrs.update(field.widget_attrs(widget))
    field.widget = widget


def _line_feeds(to_python: Any) -> Any:
    """A browser posts a textarea's line breaks as CR LF; the stored text has LF. Without this,
    a multi-line text saved unchanged would come back different (and be recorded as a change)."""

    def convert(value: Any) -> Any:
        value = to_python(value)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value

    return convert


def _keep_stored_choice(form: forms.BaseForm, name: str, field: forms.ChoiceField) -> None:
    """A select never hides the stored value. A value no longer offered (a value-list label
    retired since it was recorded) would show as the first option and be posted as that, so an
    unchanged save would silently replace it; it is offered, marked 已停用, and whether it may
    stay is the service's rule, said in words beside the field."""
    stored = form.initial.get(name, field.initial)
    if callable(stored):
        return
    values = stored if isinstance(field, forms.MultipleChoiceField) else [stored]
    if not isinstance(values, list | tuple):
        return
    offered = {str(key) for key, _label in _flat_choices(field.choices)}
    missing = [value for value in values if value not in (None, "") and str(value) not in offered]
    if missing:
        current = list(cast("Iterable[Any]", field.choices))
        field.choices = [*current, *[(value, _discontinued(value)) for value in missing]]


def _flat_choices(choices: Any) -> list[tuple[Any, Any]]:
    flat: list[tuple[Any, Any]] = []
    for key, label in choices:
        if isinstance(label, list | tuple):
            flat.extend(label)
        else:
            flat.append((key, label))
    return flat


_CHOOSE = gettext_lazy("请选择")
_NONE = gettext_lazy("（无）")
_discontinued = lazy(lambda value: gettext("%(value)s（已停用）") % {"value": value}, str)


# Django's placeholder for "nothing chosen" (a model field's blank choice, a ModelChoiceField's
# empty label): never shown to a user.
DASHES = "---------"


def _empty_label(field: forms.Field) -> StrPromise:
    """The house words for a select's empty choice: 请选择 where a choice is required, （无）
    where none may be chosen. (A filter's empty choice is 全部: `FILTERS_EMPTY_CHOICE_LABEL`.)"""
    return _CHOOSE if field.required else _NONE


def _label_empty_choice(field: forms.ChoiceField) -> None:
    """Replace Django's `---------` as the label of the empty choice of `field`."""
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == DASHES:
            field.empty_label = _empty_label(field)
        return
    if isinstance(field, forms.MultipleChoiceField) or isinstance(
        field.choices, CallableChoiceIterator
    ):  # a callable's choices are read when the select is drawn, not here
        return
    choices = list(cast("Iterable[Any]", field.choices))
    if any(value in ("", None) and label == DASHES for value, label in choices):
        field.choices = [
            (value, _empty_label(field) if value in ("", None) and label == DASHES else label)
            for value, label in choices
        ]


def apply_house_rules(form: forms.BaseForm) -> None:
    """Machine-format widgets, the house "required" wording and the house label of an empty
    choice on every field of `form`."""
    for name, field in form.fields.items():
        if isinstance(field, forms.ChoiceField) and not isinstance(
            field, forms.ModelChoiceField | forms.ModelMultipleChoiceField
        ):
            _keep_stored_choice(form, name, field)
        if isinstance(field, forms.ChoiceField):
            _label_empty_choice(field)
        widget = field.widget
        hidden = isinstance(widget, forms.HiddenInput | forms.MultipleHiddenInput)
        if isinstance(field, forms.DateField):
            field.input_formats = _IsoFirst((ISO_DATE,), "DATE_INPUT_FORMATS")
            if not hidden and type(widget) is not DateInput:
                _replace_widget(field, DateInput(attrs=widget.attrs))
        elif isinstance(field, forms.DateTimeField):
            field.input_formats = _IsoFirst(ISO_DATETIME_INPUTS, "DATETIME_INPUT_FORMATS")
            if not hidden and type(widget) is not DateTimeInput:
                _replace_widget(field, DateTimeInput(attrs=widget.attrs))
        if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            field.localize = False
            field.widget.is_localized = False
            if type(field.widget) is forms.NumberInput:
                _replace_widget(field, NumberInput(attrs=field.widget.attrs))
        if isinstance(field, forms.CharField) and not getattr(field, "_line_feeds", False):
            field.to_python = _line_feeds(field.to_python)  # type: ignore[method-assign]  # wraps this field instance's own converter
            field._line_feeds = True  # type: ignore[attr-defined]  # a marker so that a field is wrapped once
        if field.error_messages.get("required") is _DJANGO_REQUIRED:
            field.error_messages["required"] = required_message(field.label)


class _HouseRulesMixin:
    """Error lists without repeats: a service that says "请填写出生日期。" and the model's own
    check of the same empty field (now worded the same) show one message, not two.

    No label suffix: a label reads "理由", never "理由:".

    `ids`: the ids of a form that a page shows beside another with fields of the same names
    ("return_%s" for the 退回 form beside the step's, both with an 意见): with one id twice, each
    label names the first field only (held over every page by tests/povertyapp/test_page_links.py).
    """

    ids: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.ids is not None:
            kwargs.setdefault("auto_id", self.ids)
        # No ":" after a label: Django's catalog leaves it half-width in Chinese ("理由:"), and
        # the house field partial (households/partials/field.html) writes none.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]  # a mixin: add_error is the Form's it is mixed into
        errors = self._errors  # type: ignore[attr-defined]  # a mixin: the Form's error dict
        for name, error_list in list(errors.items()):
            seen: set[tuple[str, ...]] = set()
            unique = []
            for item in error_list.as_data():
                text = tuple(item.messages)
                if text not in seen:
                    seen.add(text)
                    unique.append(item)
            if len(unique) != len(error_list):
                errors[name] = error_list.__class__(unique, error_class=error_list.error_class)


class HouseRulesMetaclass(DeclarativeFieldsMetaclass):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        form = super().__call__(*args, **kwargs)
        apply_house_rules(form)
        return form


class HouseRulesModelFormMetaclass(ModelFormMetaclass):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        form = super().__call__(*args, **kwargs)
        apply_house_rules(form)
        return form


class Form(_HouseRulesMixin, forms.Form, metaclass=HouseRulesMetaclass):
    """The base of every plain form of the project (see the module docstring)."""


class ModelForm(_HouseRulesMixin, forms.ModelForm, metaclass=HouseRulesModelFormMetaclass):
    """The base of every model form of the project (see the module docstring)."""


def model_messages_install(models: Any) -> None:
    """Give the model fields of `models` the house wording for an empty value.

    `Model.full_clean()` says "这个值不能为 null。" / "此字段不能为空。" with no field name; the
    services call it and their errors reach the pages and the API. Each field gets
    `请填写<verbose_name>。` instead, lazily translated. Called once from the platform's
    `AppConfig.ready` with the project's models (the platform names no domain app).
    """
    for model in models:
        for field in model._meta.get_fields(include_parents=False):
            messages = getattr(field, "error_messages", None)
            if not isinstance(messages, dict):
                continue
            label = getattr(field, "verbose_name", None)
            if not isinstance(label, str | Promise):
                label = None
            for code in ("null", "blank"):
                if code in messages:
                    messages[code] = required_message(label)


def add_service_errors(form: forms.BaseForm, error: Any) -> None:
    """Put a service's ValidationError on the form: each message beside the field it names,
    the rest (and a message naming no field) on the form itself."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields else None
            for item in errors:
                form.add_error(target, item.messages[0] if target is None else item)
    else:
        for message in error.messages:
            form.add_error(None, message)
