from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.views import clues, dashboard
from monitoring.views import identities as identity_views
from monitoring.views import lists as list_views
from monitoring.views import objects as object_views
from monitoring.views import sweeps as sweep_views

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []

# --- sweep ---
urlpatterns += [
    path("sweeps/", sweep_views.sweep_list, name="sweeps"),
    path("sweeps/open/", sweep_views.sweep_open, name="sweep-open"),
    path("sweeps/<int:sweep_id>/", sweep_views.sweep_detail, name="sweep"),
    path("sweeps/<int:sweep_id>/teams/", sweep_views.sweep_teams, name="sweep-teams"),
    path("sweeps/<int:sweep_id>/close/", sweep_views.sweep_close, name="sweep-close"),
    path(
        "sweeps/<int:sweep_id>/villages/<int:village_id>/",
        sweep_views.sweep_households,
        name="sweep-households",
    ),
    path(
        "sweeps/households/<int:sweep_household_id>/",
        sweep_views.sweep_visit,
        name="sweep-visit",
    ),
]

# --- objects ---
urlpatterns += [
    path("objects/", object_views.object_list, name="objects"),
    path("objects/<int:monitoring_object_id>/", object_views.object_detail, name="object"),
    path("objects/<int:monitoring_object_id>/eliminate/", object_views.eliminate, name="eliminate"),
    path(
        "objects/<int:monitoring_object_id>/risks/<int:risk_id>/resolve/",
        object_views.risk_resolve,
        name="risk-resolve",
    ),
    path("clues/<int:clue_id>/identify/", object_views.identify_from_clue, name="identify"),
    path(
        "households/<int:household_id>/identify/",
        object_views.identify_household,
        name="identify-household",
    ),
    path("households/<int:household_id>/income/", object_views.income_record, name="income"),
]

# --- clues ---
urlpatterns += [
    path("declare/", clues.declare, name="declare"),
    path("clues/", clues.clue_list, name="clues"),
    path("clues/new/", clues.clue_add, name="clue-add"),
    path("clues/<int:clue_id>/", clues.clue_detail, name="clue"),
    path("clues/<int:clue_id>/verify/", clues.clue_verify, name="clue-verify"),
    path("clues/<int:clue_id>/not-include/", clues.clue_not_include, name="clue-not-include"),
    path("clues/<int:clue_id>/attach/", clues.clue_attach, name="clue-attach"),
    path("clues/<int:clue_id>/register/", clues.clue_register, name="clue-register"),
    path("department/", clues.department_home, name="department-home"),
    path("department/lists/<int:list_id>/", clues.list_results, name="list-results"),
    path(
        "department/lists/<int:list_id>/export/",
        clues.list_results_export,
        name="list-results-export",
    ),
]

# --- 农村低收入人口 ---
urlpatterns += [
    path("identities/", identity_views.identity_list, name="identities"),
    path(
        "households/<int:household_id>/identities/",
        identity_views.household_identities,
        name="household-identities",
    ),
]

# --- figures ---
urlpatterns += [
    path("", dashboard.monitoring_index, name="index"),
    path("dashboard/<str:code>/", dashboard.monitoring_dashboard, name="dashboard"),
    path(
        "dashboard/<str:code>/objects/",
        dashboard.monitoring_dashboard_objects,
        name="dashboard-objects",
    ),
]

# --- lists (the departments' lists, exclusion scrutiny) ---
urlpatterns += [
    path("lists/", list_views.list_index, name="lists"),
    path("lists/upload/", list_views.list_upload, name="list-upload"),
    path("lists/template/<slug:layout_key>/", list_views.list_template, name="list-template"),
    path("lists/<int:list_id>/", list_views.list_detail, name="list"),
    path("scrutiny/", list_views.scrutiny_index, name="scrutiny"),
    path("scrutiny/<int:task_id>/", list_views.scrutiny_task, name="scrutiny-task"),
    path("scrutiny/relations/", list_views.cadre_relations, name="cadre-relations"),
]
