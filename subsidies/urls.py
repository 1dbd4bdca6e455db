from django.urls import path

from subsidies import views

app_name = "subsidies"

urlpatterns = [
    path("", views.programmes, name="programmes"),
    path("mine/", views.mine, name="mine"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/object/", views.object_to, name="object"),
    path("applications/<int:pk>/", views.application, name="application"),
    path("applications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<slug:code>/", views.programme, name="programme"),
    path("<slug:code>/apply/", views.apply, name="apply"),
]
