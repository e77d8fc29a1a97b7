from django.urls import path

from rounds import dashboard_views as views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("<str:code>/", views.dashboard, name="region"),
    path("<str:code>/households/", views.dashboard_households, name="households"),
]
