"""Typed requests for code that only runs for a signed-in user.

Django and DRF type `request.user` as "a user or AnonymousUser"; the scope and role helpers
(`roles.region_scope`, `*_get_for_user`, the services' `actor=`) take a `User`. Behind
`@login_required`, the admin site or DRF's `IsAuthenticated` the user is always a `User`, so:

- HTML views decorated with `@login_required` (and the helpers they call) annotate their
  request as `AuthenticatedHttpRequest`;
- DRF views behind `IsAuthenticated` (the default permission class) annotate it as
  `AuthenticatedRequest`;
- code whose signature is fixed by a base class (admin hooks) calls `request_user(request)`,
  which checks at run time.

The two request classes are annotations only: Django and DRF build the ordinary objects, and the
decorator or permission class is what makes the narrower type true. Annotate a view with them
only when it is guarded so.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from povertyapp.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a `@login_required` view: its user is signed in."""

    user: User


class AuthenticatedRequest(Request):
    """The request of a DRF view behind `IsAuthenticated`: its user is signed in."""

    user: User


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user of `request`; PermissionDenied for an anonymous one.

    For code that cannot annotate its request (a base class fixes the signature) but runs only
    behind authentication, such as the admin site's hooks.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
