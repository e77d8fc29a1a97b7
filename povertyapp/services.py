"""Writes to regions, village years and accounts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from povertyapp.models import Region, User
from povertyapp.roles import STAFF_ROLES


@transaction.atomic
def region_create(
    *, code: str, name: str, level: str, parent: Region | None = None, is_western: bool = False
) -> Region:
    """Add a region under its parent; the path (the subtree key of every scope) is derived."""
    # Keyed by the plain level string the callers pass (Level members are str).
    expected_parents: dict[str, set[str]] = {
        Region.Level.CITY: {Region.Level.PROVINCE},
        Region.Level.COUNTY: {Region.Level.CITY, Region.Level.PROVINCE},
        Region.Level.TOWNSHIP: {Region.Level.COUNTY},
        Region.Level.VILLAGE: {Region.Level.TOWNSHIP},
        Region.Level.GROUP: {Region.Level.VILLAGE},
    }
    expected_parent = expected_parents.get(level)
    if expected_parent is not None and (parent is None or parent.level not in expected_parent):
        raise ValidationError(_("上级区划的层级不正确。"), code="bad_parent_level")
    region = Region(code=code, name=name, level=level, parent=parent, is_western=is_western)
    region.path = (parent.path if parent else "/") + code + "/"
    region.full_clean()
    region.save()
    return region


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    region: Region | None,
    full_name: str = "",
    validate_password: bool = True,
    **extra: Any,
) -> User:
    """Create an account bound to a role and region. Staff status follows the role: the county
    office and the three administrators use the admin site."""
    from django.contrib.auth.password_validation import validate_password as check_password

    user = User(username=username, role=role, region=region, full_name=full_name, **extra)
    user.is_staff = role in STAFF_ROLES
    if validate_password:
        check_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user
