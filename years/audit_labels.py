"""The audit targets this app writes, in words (`povertyapp.audit_targets`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from povertyapp import audit_targets


def register() -> None:
    audit_targets.register({"year:": _("年度"), "year:rollover": _("年度结转")})
