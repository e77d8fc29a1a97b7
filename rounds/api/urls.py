from django.urls import path

from rounds.api import changes
from rounds.api.rates import RegionRatesApi

urlpatterns = [
    path("regions/<str:code>/rates/", RegionRatesApi.as_view(), name="region-rates"),
    # issue 16: the rounds and their 四类名单
    path("rounds/", changes.RoundListApi.as_view(), name="round-list"),
    path("rounds/<int:round_id>/", changes.RoundDetailApi.as_view(), name="round-detail"),
    path(
        "rounds/<int:round_id>/changes/",
        changes.RoundChangeListApi.as_view(),
        name="round-changes",
    ),
    path("round-changes/<int:change_id>/", changes.ChangeDetailApi.as_view(), name="change-detail"),
    path(
        "round-changes/<int:change_id>/review/",
        changes.ChangeReviewApi.as_view(),
        name="change-review",
    ),
    path(
        "round-changes/<int:change_id>/decide/",
        changes.ChangeDecideApi.as_view(),
        name="change-decide",
    ),
    path(
        "round-changes/<int:change_id>/withdraw/",
        changes.ChangeWithdrawApi.as_view(),
        name="change-withdraw",
    ),
]
