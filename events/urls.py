from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("month/", views.event_calendar, name="calendar"),
    path("mine/", views.my_events, name="mine"),
    path("subscriptions/", views.subscribe, name="subscribe"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="feed"),
    path("<int:pk>/", views.event_detail, name="event"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/cover/<str:size>.img", views.event_cover, name="cover"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("registrations/<int:pk>/ticket.png", views.ticket_qr, name="ticket_qr"),
    path("registrations/<int:pk>/<slug:action>/", views.registration_action, name="registration_action"),
    # Organisers: verified employers (recruitment fairs, salons) and staff of the district.
    path("organise/", views.organise, name="organise"),
    path("organise/new/", views.organise_new, name="organise_new"),
    path("organise/<int:pk>/", views.organise_event, name="organise_event"),
    path("organise/<int:pk>/registrations/", views.organise_registrations, name="organise_registrations"),
    path("organise/<int:pk>/<slug:action>/", views.organise_action, name="organise_action"),
    path("organise/registrations/<int:pk>/<slug:action>/", views.organise_decide, name="organise_decide"),
]
