"""The assistance workbooks' pages, included by the ledger pages' URLconf under
`import/assistance/`: no namespace of their own, so their names are `ledgers:…` beside the
household import's."""

from django.urls import path

from assistance import import_views

urlpatterns = [
    path("measures/", import_views.measures_page, name="assistance-import-measures"),
    path(
        "measures/template/",
        import_views.measures_template,
        name="assistance-import-measures-template",
    ),
    path("pairings/", import_views.pairings_page, name="assistance-import-pairings"),
    path(
        "pairings/template/",
        import_views.pairings_template,
        name="assistance-import-pairings-template",
    ),
    path("projects/", import_views.projects_page, name="assistance-import-projects"),
    path(
        "projects/template/",
        import_views.projects_template,
        name="assistance-import-projects-template",
    ),
]
