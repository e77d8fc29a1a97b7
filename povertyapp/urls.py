from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from povertyapp import views
from povertyapp.api.docs import ApiDocsView
from povertyapp.api.views import (
    ObtainTokenApi,
    TokenListApi,
    TokenLogoutAllApi,
    TokenLogoutApi,
    TokenRevokeApi,
)
from povertyapp.tokens import views as token_views

# Error pages in the site's layout and the user's language (povertyapp/errors.py).
handler400 = "povertyapp.errors.bad_request"
handler403 = "povertyapp.errors.permission_denied"
handler404 = "povertyapp.errors.page_not_found"
handler500 = "povertyapp.errors.server_error"

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", ObtainTokenApi.as_view(), name="api-token"),
    path("auth/token/logout/", TokenLogoutApi.as_view(), name="api-token-logout"),
    path("auth/token/logout-all/", TokenLogoutAllApi.as_view(), name="api-token-logout-all"),
    path("auth/tokens/", TokenListApi.as_view(), name="api-tokens"),
    path("auth/tokens/<str:prefix>/", TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("households.api.urls")),
    path("", include("rounds.api.urls")),
    path("assistance/", include("assistance.api.urls")),
    path("inspections/", include("inspections.api.urls")),
    path("monitoring/", include("monitoring.api.urls")),
    path("years/", include("years.api.signoff_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("manifest.webmanifest", views.web_manifest, name="web-manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/tokens/", token_views.token_list, name="account-tokens"),
    path(
        "accounts/tokens/<str:prefix>/revoke/",
        token_views.token_revoke,
        name="account-token-revoke",
    ),
    path(
        "accounts/tokens/revoke-all/",
        token_views.token_revoke_all,
        name="account-tokens-revoke-all",
    ),
    path("accounts/", include("povertyapp.security.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The djangojs catalog (locale/*/LC_MESSAGES/djangojs.po) for our scripts' messages; public,
    # since the farmer's own declaration page (no account) checks ID numbers as they are typed.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    # The region cascade's options (povertyapp/regions.py), for every page's region filter.
    path("regions/options/", views.region_options, name="region-options"),
    # The one door of every stored file; MEDIA_ROOT itself is never routed, in any mode.
    path("files/", include("povertyapp.files.urls")),
    path("households/", include("households.urls")),
    path("assistance/", include("assistance.urls")),
    path("inspections/", include("inspections.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("rounds/", include("rounds.urls")),
    path("years/", include("years.urls")),
    path("dashboards/", include("rounds.dashboard_urls")),
    path("ledgers/", include("povertyapp.ledgers.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]
