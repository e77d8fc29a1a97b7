from django.urls import path

from years.api.signoff import (
    SignOffReopenApi,
    SignOffReturnApi,
    SignOffSignApi,
    SignOffStateApi,
    SignOffSubmitApi,
)

urlpatterns = [
    path("signoff/<int:year>/", SignOffStateApi.as_view(), name="years-signoff"),
    path("signoff/<int:year>/submit/", SignOffSubmitApi.as_view(), name="years-signoff-submit"),
    path("signoff/<int:year>/sign/", SignOffSignApi.as_view(), name="years-signoff-sign"),
    path("signoff/<int:year>/return/", SignOffReturnApi.as_view(), name="years-signoff-return"),
    path("signoff/<int:year>/reopen/", SignOffReopenApi.as_view(), name="years-signoff-reopen"),
]
