from django.urls import path

from povertyapp.security import views

app_name = "account"

urlpatterns = [
    path("security/", views.account_security, name="security"),
    path("second-factor/", views.second_factor_verify, name="second-factor-verify"),
    path("second-factor/enrol/", views.second_factor_enrol, name="second-factor-enrol"),
    path(
        "second-factor/backup-codes/",
        views.backup_codes_generate,
        name="second-factor-backup-codes",
    ),
    path("second-factor/disable/", views.second_factor_disable, name="second-factor-disable"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/end/", views.session_end, name="session-end"),
]
