"""The apartments app's services: youth stations and housing (talent apartments, affordable
rentals), one module each; callers import from the package."""

from apartments.services.housing import *  # noqa: F403
from apartments.services.stations import *  # noqa: F403
