"""The portal's URLs plus the benchmark baseline: a view that does one simple query and
renders a tiny template (issue #3's yardstick). It lives here, not in the portal, so no
production code exists only for benchmarks."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from portal.models import District
from portal.urls import urlpatterns as portal_urlpatterns

_TEMPLATE = engines["django"].from_string(
    "<!DOCTYPE html><title>{{ d.name }}</title><p>{{ d.name }} · {{ d.name_en }}</p>"
)


def baseline(request):
    district = District.objects.order_by("pk").first()
    return HttpResponse(_TEMPLATE.render({"d": district}, request))


urlpatterns = [path("bench/baseline/", baseline), *portal_urlpatterns]
