"""HTML pages of the subsidy programmes."""

from django.http import HttpResponse


def placeholder(request, **kwargs):
    return HttpResponse("")


programmes = mine = notices = object_to = application = withdraw = programme = apply = placeholder
