from django.urls import path

from assistance.api import views

urlpatterns = [
    path(
        "households/<int:household_id>/measures/",
        views.HouseholdMeasuresApi.as_view(),
        name="assistance-household-measures",
    ),
    path(
        "households/<int:household_id>/needs/",
        views.HouseholdNeedsApi.as_view(),
        name="assistance-household-needs",
    ),
    path(
        "households/<int:household_id>/visits/",
        views.HouseholdVisitsApi.as_view(),
        name="assistance-household-visits",
    ),
    path(
        "households/<int:household_id>/pairings/",
        views.HouseholdPairingsApi.as_view(),
        name="assistance-household-pairings",
    ),
    path("measures/<int:measure_id>/", views.MeasureDetailApi.as_view(), name="assistance-measure"),
    path(
        "measures/<int:measure_id>/status/",
        views.MeasureStatusApi.as_view(),
        name="assistance-measure-status",
    ),
    path("offline/bundle/", views.OfflineBundleApi.as_view(), name="assistance-offline-bundle"),
    path("offline/visits/", views.OfflineVisitSyncApi.as_view(), name="assistance-offline-visits"),
    path("offline/photos/", views.OfflinePhotoApi.as_view(), name="assistance-offline-photos"),
    path("projects/", views.ProjectListApi.as_view(), name="assistance-projects"),
    path("projects/<int:project_id>/", views.ProjectDetailApi.as_view(), name="assistance-project"),
    path(
        "projects/<int:project_id>/movements/",
        views.ProjectMovementsApi.as_view(),
        name="assistance-project-movements",
    ),
]
