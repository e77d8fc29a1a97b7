"""The household import's pages, included by the ledger pages' URLconf under `import/`: no
namespace of their own, so their names stay `ledgers:import`, `ledgers:import-job`, ..."""

from django.urls import path

from households import import_views

urlpatterns = [
    path("", import_views.import_page, name="import"),
    path("template/", import_views.template_download, name="import-template"),
    path("<int:job_id>/", import_views.import_job, name="import-job"),
    path("<int:job_id>/confirm/", import_views.import_confirm, name="import-confirm"),
]
