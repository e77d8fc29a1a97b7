"""The bench's URLconf: every production URL plus `/bench/bare/`, the baseline view."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do: same middleware, no template, no query of its own."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("povertyapp.urls")),
]
