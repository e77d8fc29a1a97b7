from django.urls import path

from assistance import views

app_name = "assistance"

urlpatterns = [
    path("", views.index, name="index"),
    path("households/", views.household_list, name="households"),
    path("offline/", views.offline, name="offline"),
    path("households/<int:household_id>/", views.household_page, name="household"),
    path("households/<int:household_id>/measures/", views.measure_create, name="measure-create"),
    path("households/<int:household_id>/plan/", views.plan_save, name="plan-save"),
    path("households/<int:household_id>/visits/new/", views.visit_create, name="visit-create"),
    path("households/<int:household_id>/pairing/", views.pairing_change, name="pairing-change"),
    path("households/<int:household_id>/print/<slug:card>/", views.household_print, name="print"),
    path("measures/<int:measure_id>/edit/", views.measure_edit, name="measure-edit"),
    path("measures/<int:measure_id>/status/", views.measure_status, name="measure-status"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/run/", views.coverage_run, name="coverage-run"),
    path(
        "coverage/<int:run_id>/villages/<int:village_id>/",
        views.coverage_village,
        name="coverage-village",
    ),
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:project_id>/", views.project_detail, name="project"),
    path("projects/<int:project_id>/movements/", views.project_movement, name="project-movement"),
    path("projects/<int:project_id>/approve/", views.project_approve, name="project-approve"),
    path("projects/<int:project_id>/publish/", views.project_publish, name="project-publish"),
    path("projects/<int:project_id>/progress/", views.project_progress, name="project-progress"),
    path("projects/<int:project_id>/accept/", views.project_accept, name="project-accept"),
    path("projects/<int:project_id>/close/", views.project_close, name="project-close"),
    path("funds/", views.funds, name="funds"),
    path("teams/", views.teams, name="teams"),
    path("assets/", views.asset_list, name="assets"),
    path("assets/new/", views.asset_create, name="asset-create"),
    path("assets/<int:asset_id>/", views.asset_detail, name="asset"),
    path("assets/<int:asset_id>/edit/", views.asset_edit, name="asset-edit"),
    path("assets/<int:asset_id>/income/", views.asset_income, name="asset-income"),
    path(
        "assets/<int:asset_id>/distribution/",
        views.asset_distribution,
        name="asset-distribution",
    ),
    path("exit-plan/", views.exit_plan, name="exit-plan"),
]
