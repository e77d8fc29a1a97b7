"""Security machinery of the platform (等保 2.0 level 3), one module per concern.

`passwords`: the password rules and the password change; `second_factor`: TOTP and backup codes
(django-otp); `sessions`: the signed-in sessions a user sees and ends, and the absolute limit;
`middleware`: the steps after the password (second factor, an expired password) before any page;
`views`/`urls`: the 账号安全 pages.
"""
