from django.urls import path

from rounds import rollup_views
from rounds import views as views

app_name = "rounds"

urlpatterns = [
    path("", views.round_list_view, name="list"),
    path("open/", views.round_open_view, name="open"),
    path("<int:round_id>/", views.round_detail, name="detail"),
    path("<int:round_id>/propose/", views.change_propose_view, name="propose"),
    path("<int:round_id>/propose/natural/", views.natural_propose_view, name="propose-natural"),
    path(
        "<int:round_id>/propose/correction/",
        views.correction_propose_view,
        name="propose-correction",
    ),
    path("<int:round_id>/import/", views.change_import_view, name="import"),
    path("<int:round_id>/template.xlsx", views.change_template_view, name="template"),
    path("<int:round_id>/review/", views.changes_review_view, name="review"),
    path("<int:round_id>/decide/", views.changes_decide_view, name="decide"),
    path("<int:round_id>/close/", views.round_close_view, name="close"),
    path("<int:round_id>/compute/", views.round_compute_view, name="compute"),
    path("changes/<int:change_id>/", views.change_act_view, name="change-act"),
    path("rollup/<str:code>/start/", rollup_views.rollup_start_view, name="rollup-start"),
    path("rollup/runs/<int:job_id>/", rollup_views.rollup_run_view, name="rollup-run"),
]
