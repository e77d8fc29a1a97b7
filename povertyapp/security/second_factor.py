"""Two-factor sign-in (等保 2.0 身份鉴别): TOTP devices and single-use backup codes, django-otp.

Required for the county office, township reviewers, auditors, the three administrators and
superusers (`required`), open to every user. A TOTP code is accepted once: django-otp refuses a
time step at or before the device's last accepted one; this module tells that refusal apart
from a wrong code, so that the user reads why and the audit trail shows a replay. Every success
and failure is an audit row (AccessLog.Action.SECOND_FACTOR). Wrong codes are throttled by
django-otp (the wait doubles with each); after SECOND_FACTOR_FAILURE_LIMIT in a row the device
is locked for AXES_COOLOFF_TIME hours, as a password is. Backup codes are stored only as
keyed digests (crypto.backup_code_digest, in django-otp's StaticToken.token): a code is shown
once, when it is generated, and what the user types is digested before it is looked up.

`SECOND_FACTOR_DEMO_EXEMPT` (env DEMO_WITHOUT_SECOND_FACTOR; on in the embedded default and the
tests, refused by production) lets users without a device in without enrolling.
"""

from __future__ import annotations

import base64
import datetime
import re
import time
from typing import Any

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from povertyapp import audit, crypto, roles
from povertyapp.models import AccessLog, User
from povertyapp.security import steps

Role = User.Role
REQUIRED_ROLES = frozenset(
    {Role.COUNTY_OFFICER, Role.TOWNSHIP_REVIEWER, Role.AUDITOR} | roles.ADMIN_ROLES
)
BACKUP_CODE_COUNT = 10
DEVICE_NAME = "TOTP"
BACKUP_DEVICE_NAME = "backup"
TOTP_CODE = re.compile(r"^\d{6}$")


def required(user: Any) -> bool:
    return bool(user.is_superuser or user.role in REQUIRED_ROLES)


def demo_exempt() -> bool:
    return bool(settings.SECOND_FACTOR_DEMO_EXEMPT)


def totp_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def backup_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verified(request: Any) -> bool:
    user = getattr(request, "user", None)
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def admin_allowed(request: Any) -> bool:
    """The admin site needs a verified second factor (the demo exemption aside)."""
    return verified(request) or demo_exempt()


# --- enrolment ---------------------------------------------------------------------------------


def enrolment_device(*, user: User) -> TOTPDevice:
    """The unconfirmed device the enrolment page shows (one per user, kept across reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it by hand: base32 in groups of four."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (server-side, nothing fetched)."""
    return str(segno.make(device.config_url, micro=False).svg_inline(scale=4, border=2))


def enrolment_confirm(*, request: Any, user: User, code: str) -> list[str]:
    """Confirm the enrolment device with its first code; the session counts as verified and the
    user gets a new set of backup codes (returned, to be shown once)."""
    code = _normalise(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).last()
        confirmed = bool(device and TOTP_CODE.match(code) and device.verify_token(code))
        if device is not None and confirmed:
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    # Refusals are written after the transaction: the audit row and the throttling count stay.
    if device is None:
        raise ValidationError(_("绑定已过期，请刷新页面后重新扫描二维码。"), code="no_enrolment")
    if not confirmed:
        _record(request, user, "failed", "enrol: wrong code")
        raise ValidationError(
            _("验证码不正确，请确认手机时间准确，并输入身份验证器当前显示的6位数字。"),
            code="wrong_code",
        )
    otp_login(request, device)
    steps.complete(request, steps.SECOND_FACTOR_ENROL)
    steps.complete(request, steps.SECOND_FACTOR_VERIFY)
    _record(request, user, "ok", "enrolled", detail={"event": "enrol"})
    return backup_codes_generate(request=request, user=user)


@transaction.atomic
def backup_codes_generate(*, request: Any, user: User) -> list[str]:
    """Ten new single-use backup codes; the old ones stop working. The codes are returned to
    be shown once: the database keeps only their keyed digests (crypto.backup_code_digest)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _index in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=crypto.backup_code_digest(code)) for code in codes
    )
    _record(request, user, "ok", "backup codes generated", detail={"event": "backup_codes"})
    return codes


def second_factor_disable(*, request: Any, user: User, password: str) -> None:
    if not user.check_password(password):
        _record(request, user, "refused", "disable: wrong password")
        raise ValidationError(_("密码不正确，未关闭双因素认证。"), code="wrong_password")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    _record(request, user, "ok", "disabled", detail={"event": "disable"})


# --- verification at sign-in -------------------------------------------------------------------


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _lock_deadline(device: Any) -> datetime.datetime | None:
    """When a device locked by too many wrong codes opens again (None: not locked)."""
    if device.throttling_failure_count < settings.SECOND_FACTOR_FAILURE_LIMIT:
        return None
    if device.throttling_failure_timestamp is None:
        return None
    until = device.throttling_failure_timestamp + datetime.timedelta(
        hours=settings.AXES_COOLOFF_TIME
    )
    return until if until > timezone.now() else None


def _reused(device: TOTPDevice, code: str) -> bool:
    """Whether `code` is right for the device but for a step already used (a replay)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return bool(totp.verify(int(code), device.tolerance)) and totp.t() <= device.last_t


def verify(*, request: Any, user: User, code: str) -> None:
    """Check a TOTP or backup code at sign-in; on success the session is verified. A refusal
    raises ValidationError with a Chinese message, after its audit row is written."""
    device = _checked_device(request=request, user=user, code=code, channel="web")
    otp_login(request, device)
    steps.complete(request, steps.SECOND_FACTOR_VERIFY)


def owed_for_token(user: User) -> bool:
    """Whether `POST /api/v1/auth/token/` must have a code besides the password: the same rule
    as the pages (a required role, or anyone with a device; the demo exemption lets a required
    role without a device through, never past a device it has)."""
    if has_device(user):
        return True
    return required(user) and not demo_exempt()


def verify_for_token(*, request: Any, user: User, code: str) -> None:
    """The second factor of the API's sign-in: the code checked and audited as at the pages
    (single use, lockout), without a session to mark. A required role with no device is told
    to enrol on the pages first."""
    if required(user) and not has_device(user):
        _record(request, user, "refused", "no device enrolled", detail={"channel": "api"})
        raise ValidationError(
            _("您的角色必须使用双因素认证：请先登录网页启用，再获取令牌。"), code="no_device"
        )
    _checked_device(request=request, user=user, code=code, channel="api")


def _checked_device(*, request: Any, user: User, code: str, channel: str) -> Any:
    code = _normalise(code)
    if not code:
        raise ValidationError(_("请输入验证码。"), code="required")
    with transaction.atomic():
        device, error = _verify_device(user=user, code=code)
    if error is None:
        kind = "totp" if isinstance(device, TOTPDevice) else "backup_code"
        detail = {"device": kind} if channel == "web" else {"device": kind, "channel": channel}
        _record(request, user, "ok", "verified", detail=detail)
        return device
    reason = error.code or "failed"
    if reason == "locked_now":
        audit.record(
            AccessLog.Action.LOCKOUT,
            request=request,
            user=user,
            outcome="refused",
            reason="second factor: too many wrong codes",
        )
        error.code = reason = "wrong_code"
    outcome = "failed" if reason == "wrong_code" else "refused"
    _record(request, user, outcome, REASONS.get(reason, reason))
    raise error


REASONS = {
    "wrong_code": "wrong code",
    "reused": "TOTP code reused",
    "locked": "locked after too many wrong codes",
    "throttled": "throttled",
}


def _verify_device(*, user: User, code: str) -> tuple[Any, ValidationError | None]:
    """The device the code is for, and why it was refused (None: accepted). In a transaction:
    the device's row is locked, so two requests cannot both use one code."""
    device: Any
    if TOTP_CODE.match(code):
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    else:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    wrong = ValidationError(
        _("验证码不正确：请输入身份验证器当前显示的6位数字，或一个未用过的备用验证码。"),
        code="wrong_code",
    )
    if device is None:
        return None, wrong
    locked_until = _lock_deadline(device)
    if locked_until is not None:
        return device, ValidationError(
            _("验证码错误次数过多，已暂时锁定，请于%(time)s后再试或联系安全管理员。"),
            code="locked",
            params={"time": timezone.localtime(locked_until).strftime("%H:%M")},
        )
    allowed, details = device.verify_is_allowed()
    if not allowed:
        wait = (details or {}).get("locked_until")
        seconds = max(1, int((wait - timezone.now()).total_seconds())) if wait else 1
        return device, ValidationError(
            _("验证码错误次数较多，请%(seconds)d秒后再试。"),
            code="throttled",
            params={"seconds": seconds},
        )
    # A backup code is looked up by its digest (what the table holds); django-otp's
    # verify_token still deletes the one it matches and counts a miss for the throttling.
    token = code if isinstance(device, TOTPDevice) else crypto.backup_code_digest(code)
    if device.verify_token(token):
        return device, None
    if isinstance(device, TOTPDevice) and _reused(device, code):
        return device, ValidationError(_("该验证码已使用，请等待下一个验证码"), code="reused")
    if device.throttling_failure_count == settings.SECOND_FACTOR_FAILURE_LIMIT:
        wrong.code = "locked_now"
    return device, wrong


def _record(
    request: Any, user: User, outcome: str, reason: str, detail: dict[str, Any] | None = None
) -> None:
    audit.record(
        AccessLog.Action.SECOND_FACTOR,
        request=request,
        user=user,
        target="povertyapp.User",
        object_id=user.pk,
        outcome=outcome,
        reason=reason,
        detail=detail,
    )
