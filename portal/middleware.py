from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429


class RateLimitedMiddleware:
    """allauth raises RateLimited from deep inside some flows (e.g. a second sign-up with the
    same phone number within the code interval); answer with the friendly 429 page instead
    of a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RateLimited):
            return respond_429(request)
        return None
