"""Signing in through the pages, and TOTP codes for the tests of the second factor."""

from __future__ import annotations

import time

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from povertyapp.models import User
from tests import factories

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, hex


def sign_in(user: User, client: Client | None = None, **extra: str) -> Client:
    """The password step only (the login page), as a browser does."""
    client = client or Client()
    response = client.post(
        reverse("login"), {"username": user.username, "password": factories.PASSWORD}, **extra
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def device_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="TOTP", key=KEY, confirmed=True)


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"
