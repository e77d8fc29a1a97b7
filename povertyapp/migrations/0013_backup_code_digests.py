"""Issue 14 (等保 2.0 身份鉴别): two-factor backup codes (备用验证码) are stored as keyed digests.

django-otp's `otp_static_statictoken.token` held every unused backup code as the user types
it, so whoever read the database could sign in as anyone enrolled. Each token not yet in digest
form (16 lowercase hex characters) is replaced, in place, by `crypto.backup_code_digest` of it:
the plain codes django-otp generated (8 lowercase base32 characters) and any other plain token
(django-otp's `addstatictoken` command takes one by hand). A digest is left alone, so running
this again changes nothing, and no row is added or removed (.ci/table_counts.py).

The digest is keyed with BLIND_INDEX_KEY as configured when this runs (production refuses to
start without it): the keys are set before `migrate`, as for households 0015.

Backwards: a documented no-op, not IrreversibleError. The plain codes cannot be recovered from
their digests (that is the point of this migration), so there is nothing a reverse could
restore; refusing would only block rolling the platform app, and every app built on it, back
past this migration in an emergency. After such a rollback the old code compares what is typed
with the stored digests by equality, so the backup codes stop working: fail closed, nobody is
let in by them and nothing plain reappears. TOTP codes work as before, and a user who needs
backup codes generates a new set on 账号安全 (that release stores them plain again; this
migration digests them at the next upgrade).
"""

from django.db import migrations

from povertyapp import crypto

CHUNK = 2000


def digest_plain_tokens(apps, schema_editor):
    """Replace every stored backup code that is not yet a digest by its digest."""
    StaticToken = apps.get_model("otp_static", "StaticToken")
    tokens = StaticToken.objects.using(schema_editor.connection.alias)
    changed = []
    for token in tokens.only("pk", "token").order_by("pk").iterator(chunk_size=CHUNK):
        if not crypto.is_backup_code_digest(token.token):
            token.token = crypto.backup_code_digest(token.token)
            changed.append(token)
    tokens.bulk_update(changed, ["token"], batch_size=CHUNK)


def keep_digests(apps, schema_editor):
    """Backwards: nothing to restore (see the module's docstring); backup codes stop working."""


class Migration(migrations.Migration):
    dependencies = [
        ("otp_static", "0003_add_timestamps"),
        ("povertyapp", "0012_department_accounts"),
    ]

    operations = [
        migrations.RunPython(digest_plain_tokens, keep_digests, elidable=False),
    ]
