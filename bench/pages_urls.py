"""The bench's URLconf: every production URL plus `/bench/bare/`, the baseline view."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do: same middleware, no template, no query of its own."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def bare_signed_in(request: HttpRequest) -> HttpResponse:
    """The bare view for a signed-in user: the session and the user are read (as every page of
    the application does before its own work), nothing else. A second reference, not the
    issue's baseline."""
    return HttpResponse(str(request.user.pk), content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-signed-in/", bare_signed_in),
    path("", include("povertyapp.urls")),
]
