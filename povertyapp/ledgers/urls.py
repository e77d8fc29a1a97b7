from django.urls import path

from povertyapp.ledgers import views

app_name = "ledgers"

urlpatterns = [
    path("", views.ledger_index, name="index"),
    path("export/", views.ledger_export, name="export"),
    path("import/", views.import_page, name="import"),
    path("import/template/", views.template_download, name="import-template"),
    path("import/<int:job_id>/", views.import_job, name="import-job"),
    path("import/<int:job_id>/confirm/", views.import_confirm, name="import-confirm"),
]
