"""What the registry's pages share: the two access checks every page starts with (case
access; the writer's role), putting a service's errors beside the fields they name, and the
data-quality warning shown after a save."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from households import quality
from households.models import Household
from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不查看农户信息。"))


def _require_writer(request: AuthenticatedHttpRequest) -> None:
    _require_case_access(request)
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能修改农户信息。"))


def _apply_errors(
    error: ValidationError,
    form: Any,
    formset: Any = None,
    extra_forms: tuple[Any, ...] = (),
    row_forms: list[int] | None = None,
) -> None:
    """Put a service's errors beside the fields they name: `members.2.id_number` goes to the
    formset's third submitted row, `members` to the formset, anything else to the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        if key.startswith("members.") and formset is not None:
            _, index, *rest = key.split(".")
            position = int(index)
            if row_forms is not None and position < len(row_forms):
                position = row_forms[position]
            member_form = formset.forms[position] if position < len(formset.forms) else None
            field = rest[0] if rest else None
            if member_form is None:
                formset.add_non_form_error(errors)
            elif field in member_form.fields:
                for item in errors:
                    member_form.add_error(field, item)
            else:
                for item in errors:
                    member_form.add_error(None, item)
        elif key == "members" and formset is not None:
            formset.add_non_form_error(errors)
        else:
            target = next((f for f in (form, *extra_forms) if key in f.fields), None)
            for item in errors:
                if target is not None:
                    target.add_error(key, item)
                else:
                    form.add_error(None, item)


def _quality_messages(request: HttpRequest, household: Household) -> None:
    findings, completeness = quality.check_household(household)
    if findings:
        messages.warning(
            request,
            _("已保存。数据质量提示%(count)d条（信息录入率%(rate)s%%）：%(first)s")
            % {
                "count": len(findings),
                "rate": completeness,
                "first": _("；").join(f.message for f in findings[:3]),
            },
        )
