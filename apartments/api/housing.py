"""API of housing projects, applications and offers."""

from rest_framework import viewsets


class ProjectViewSet(viewsets.GenericViewSet):
    pass


class ApplicationViewSet(viewsets.GenericViewSet):
    pass


class OfferViewSet(viewsets.GenericViewSet):
    pass
