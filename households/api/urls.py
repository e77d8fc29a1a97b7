from django.urls import path
from rest_framework.routers import SimpleRouter

from households.api import views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="region")

urlpatterns = [
    path("households/", views.HouseholdListCreateApi.as_view(), name="household-list"),
    path("households/search/", views.HouseholdSearchApi.as_view(), name="household-search"),
    path(
        "households/<int:household_id>/",
        views.HouseholdDetailApi.as_view(),
        name="household-detail",
    ),
    path(
        "households/<int:household_id>/events/",
        views.HouseholdEventListApi.as_view(),
        name="household-events",
    ),
    path("members/", views.MemberListCreateApi.as_view(), name="member-list"),
    path("members/<int:member_id>/", views.MemberDetailApi.as_view(), name="member-detail"),
    path("members/<int:member_id>/leave/", views.MemberLeaveApi.as_view(), name="member-leave"),
    *router.urls,
]
