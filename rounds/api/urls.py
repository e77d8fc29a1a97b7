from django.urls import path

from rounds.api.rates import RegionRatesApi

urlpatterns = [
    path("regions/<str:code>/rates/", RegionRatesApi.as_view(), name="region-rates"),
]
