from django.urls import path

from inspections import views

app_name = "inspections"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("<int:campaign_id>/draw/", views.campaign_draw, name="campaign-draw"),
    path("<int:campaign_id>/finish/", views.campaign_finish, name="campaign-finish"),
    path("<int:campaign_id>/figures/", views.campaign_figures, name="campaign-figures"),
    path("<int:campaign_id>/workbook.xlsx", views.campaign_workbook, name="campaign-workbook"),
    path("<int:campaign_id>/upload/", views.campaign_upload, name="campaign-upload"),
    path(
        "<int:campaign_id>/villages/<int:sample_village_id>/sheet/",
        views.visit_sheet,
        name="visit-sheet",
    ),
    path(
        "<int:campaign_id>/villages/<int:sample_village_id>/add/",
        views.sample_add,
        name="sample-add",
    ),
    path("<int:campaign_id>/households/<int:sample_id>/", views.finding_edit, name="finding"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/resolve/", views.task_resolve, name="task-resolve"),
    path("rectification/", views.rectification_list, name="rectification-list"),
    path("rectification/new/", views.rectification_create, name="rectification-create"),
    path("rectification/ranking/", views.rectification_ranking, name="rectification-ranking"),
    path("rectification/<int:item_id>/", views.rectification_detail, name="rectification"),
    path(
        "rectification/<int:item_id>/status/",
        views.rectification_transition,
        name="rectification-transition",
    ),
    path(
        "rectification/<int:item_id>/evidence/",
        views.rectification_evidence,
        name="rectification-evidence",
    ),
]
