"""API tokens move from DRF's authtoken to django-rest-knox (issue 14, 身份鉴别).

The old tokens never expired and were stored in clear; they are not carried over: the table of
`rest_framework.authtoken` is dropped with its content type and permissions, and clients sign in
again with POST /api/v1/auth/token/ for an expiring token (docs/operations.md, upgrade notes).
Plain SQL rather than the ORM: the statements hold on a database that never had the app.
"""

from django.db import migrations

AUTHTOKEN_TYPES = "SELECT id FROM django_content_type WHERE app_label = 'authtoken'"


class Migration(migrations.Migration):
    dependencies = [
        ("povertyapp", "0007_security_roles_and_audit_fields"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunSQL(
            [
                "DROP TABLE IF EXISTS authtoken_token",
                f"DELETE FROM auth_group_permissions WHERE permission_id IN "
                f"(SELECT id FROM auth_permission WHERE content_type_id IN ({AUTHTOKEN_TYPES}))",
                f"DELETE FROM povertyapp_user_user_permissions WHERE permission_id IN "
                f"(SELECT id FROM auth_permission WHERE content_type_id IN ({AUTHTOKEN_TYPES}))",
                f"DELETE FROM auth_permission WHERE content_type_id IN ({AUTHTOKEN_TYPES})",
                f"UPDATE django_admin_log SET content_type_id = NULL "
                f"WHERE content_type_id IN ({AUTHTOKEN_TYPES})",
                "DELETE FROM django_content_type WHERE app_label = 'authtoken'",
            ],
            migrations.RunSQL.noop,
        ),
    ]
