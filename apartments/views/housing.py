"""HTML pages of talent apartments and affordable rentals."""

from django.http import HttpResponse


def placeholder(request, **kwargs):
    return HttpResponse("")


projects = project = project_photo = apply = my_housing = withdraw = offer_accept = offer_decline = placeholder
round_results = round_draw_input = recheck = placeholder
