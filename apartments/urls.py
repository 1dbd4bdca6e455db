from django.urls import path

from apartments.views import housing
from apartments.views import stations as views

app_name = "apartments"

urlpatterns = [
    path("stations/", views.stations, name="stations"),
    path("stations/<int:pk>/", views.station, name="station"),
    path("stations/<int:pk>/photo/", views.station_photo, name="station_photo"),
    path("stations/<int:pk>/book/", views.book, name="book"),
    path("stations/<int:pk>/alert/", views.alert, name="alert"),
    path("stays/", views.my_stays, name="my_stays"),
    path("stays/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("stays/<int:pk>/job-push/", views.job_push, name="job_push"),
    path("follow-ups/<int:pk>/", views.follow_up, name="follow_up"),
    path("housing/", housing.projects, name="projects"),
    path("housing/<int:pk>/", housing.project, name="project"),
    path("housing/photos/<int:pk>/", housing.project_photo, name="project_photo"),
    path("housing/rounds/<int:pk>/apply/", housing.apply, name="apply"),
    path("housing/rounds/<int:pk>/results/", housing.round_results, name="round_results"),
    path("housing/rounds/<int:pk>/draw-input.json", housing.round_draw_input, name="round_draw_input"),
    path("housing/mine/", housing.my_housing, name="my_housing"),
    path("housing/applications/<int:pk>/withdraw/", housing.withdraw, name="withdraw"),
    path("housing/offers/<int:pk>/accept/", housing.offer_accept, name="offer_accept"),
    path("housing/offers/<int:pk>/decline/", housing.offer_decline, name="offer_decline"),
    path("housing/rechecks/<int:pk>/", housing.recheck, name="recheck"),
]
