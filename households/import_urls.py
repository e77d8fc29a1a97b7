"""The household import's pages, included by the ledger pages' URLconf under `import/`: no
namespace of their own, so their names stay `ledgers:import`, `ledgers:import-job`, ..."""

from django.urls import path

from households.views import imports

urlpatterns = [
    path("", imports.import_page, name="import"),
    path("template/", imports.template_download, name="import-template"),
    path("<int:job_id>/", imports.import_job, name="import-job"),
    path("<int:job_id>/confirm/", imports.import_confirm, name="import-confirm"),
]
