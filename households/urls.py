from django.urls import path

from households import views

app_name = "households"

urlpatterns = [
    path("", views.household_list_view, name="list"),
    path("<int:household_id>/", views.household_detail, name="detail"),
]
