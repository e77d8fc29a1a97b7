"""The 低收入人口 pages (`monitoring.identities`): the persons of the user's area who hold an
identity another department certifies, beside the registry's own, with the places where the
two disagree; and one household's members with every identity each holds. ID numbers are
masked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from households.selectors import household_get_for_user, name_heads
from households.services import common
from monitoring import identities
from monitoring.models import IdentityKind
from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.privacy import mask

PAGE = 50


@login_required
def identity_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not identities.may_read(user):
        raise PermissionDenied(_("您的账号不能查看农村低收入人口。"))
    today = common.today()
    kind = request.GET.get("kind", "")
    if kind not in IdentityKind.values:
        kind = ""
    check = request.GET.get("check", "")
    if check not in identities.CHECKS_BY_KEY:
        check = ""
    keys, key_kind = identities.people(user, on=today, kind=kind, check=check)
    page = Paginator(keys, PAGE).get_page(request.GET.get("page"))
    persons = identities.rows_for(user, page.object_list, key_kind, on=today)
    return render(
        request,
        "monitoring/identities/list.html",
        {
            "today": today,
            "figures": identities.counts(user, on=today),
            "has_lists": identities.has_lists(user),
            "kinds": IdentityKind.choices,
            "kind": kind,
            "checks": identities.CHECKS,
            "check": check,
            "check_label": identities.CHECKS_BY_KEY[check].label if check else "",
            "page": page,
            "rows": [(person, mask(person.id_number)) for person in persons],
            "sees_unregistered": identities.sees_unregistered(user),
        },
    )


@login_required
def household_identities(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不查看农户信息。"))
    household = household_get_for_user(user=request.user, household_id=household_id)
    today = common.today()
    members = list(household.members.order_by("-is_active", "id"))
    name_heads([household])
    held = identities.held_by_members(household, members, on=today)
    return render(
        request,
        "monitoring/identities/household.html",
        {
            "household": household,
            "today": today,
            "rows": [
                (
                    member,
                    mask(member.id_number),
                    [(item, item.current_on(today)) for item in held[member.pk]],
                )
                for member in members
            ],
        },
    )
