from django.urls import path

from apartments import views

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
]
