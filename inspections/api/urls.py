from django.urls import path

from inspections.api import views

urlpatterns = [
    path("campaigns/", views.CampaignListApi.as_view(), name="inspection-campaign-list"),
    path(
        "campaigns/<int:campaign_id>/figures/",
        views.CampaignFiguresApi.as_view(),
        name="inspection-campaign-figures",
    ),
    path(
        "rectification/", views.RectificationListApi.as_view(), name="inspection-rectification-list"
    ),
]
