from django.urls import path
from rest_framework.routers import SimpleRouter

from households.api import procedures, quality, views

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
    # issue 16: procedures, 公示 and objections, problem data
    path("cases/", procedures.CaseListCreateApi.as_view(), name="case-list"),
    path("cases/<int:workflow_id>/", procedures.CaseDetailApi.as_view(), name="case-detail"),
    path(
        "cases/<int:workflow_id>/complete/",
        procedures.CaseCompleteApi.as_view(),
        name="case-complete",
    ),
    path("cases/<int:workflow_id>/return/", procedures.CaseReturnApi.as_view(), name="case-return"),
    path("cases/<int:workflow_id>/notice/", procedures.CaseNoticeApi.as_view(), name="case-notice"),
    path("notices/", procedures.NoticeListApi.as_view(), name="notice-list"),
    path("notices/<int:notice_id>/", procedures.NoticeDetailApi.as_view(), name="notice-detail"),
    path(
        "notices/<int:notice_id>/objections/",
        procedures.NoticeObjectionApi.as_view(),
        name="notice-objections",
    ),
    path("problems/", quality.ProblemListApi.as_view(), name="problem-list"),
    path("problems/check/", quality.ProblemCheckApi.as_view(), name="problem-check"),
    path("problems/<int:problem_id>/", quality.ProblemDetailApi.as_view(), name="problem-detail"),
    path(
        "problems/<int:problem_id>/explain/",
        quality.ProblemExplainApi.as_view(),
        name="problem-explain",
    ),
    path(
        "problems/<int:problem_id>/review/",
        quality.ProblemReviewApi.as_view(),
        name="problem-review",
    ),
    *router.urls,
]
