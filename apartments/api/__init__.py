"""The apartments API (/api/v1/...): youth stations and stays, housing projects,
applications and offers. Primary keys are integers in the URL (<int:pk>): a malformed id is
a 404 before any view code runs, and the schema types the path parameter."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apartments.api import housing, stations

router = SimpleRouter(use_regex_path=False)
router.register("stations", stations.StationViewSet, basename="station")
router.register("station-stays", stations.StayViewSet, basename="station-stay")
router.register("apartment-projects", housing.ProjectViewSet, basename="apartment-project")
router.register("housing-applications", housing.ApplicationViewSet, basename="housing-application")
router.register("housing-offers", housing.OfferViewSet, basename="housing-offer")

urlpatterns = [path("", include(router.urls))]
