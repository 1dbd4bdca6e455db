from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.position_detail, name="position"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("applications/", views.my_applications, name="my_applications"),
    path("applications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("bases/", views.bases, name="bases"),
    path("bases/<int:pk>/", views.base_catalogue, name="base"),
    path("employer/", views.employer_dashboard, name="employer"),
    path("employer/organisations/<int:org_pk>/positions/new/", views.position_create, name="position_create"),
    path("employer/positions/<int:pk>/", views.employer_position, name="employer_position"),
    path("employer/positions/<int:pk>/<slug:action>/", views.position_action, name="position_action"),
    path("employer/applications/<int:pk>/", views.employer_application, name="employer_application"),
]
