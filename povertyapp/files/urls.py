from django.urls import path

from povertyapp.files import views

app_name = "files"

urlpatterns = [
    path("<slug:kind>/<int:object_id>/", views.download, name="download"),
    path("<slug:kind>/<int:object_id>/inline/", views.inline, name="inline"),
]
