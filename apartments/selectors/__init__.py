"""The apartments app's selectors: youth stations and housing (talent apartments, affordable
rentals), one module each; callers import from the package."""

from apartments.selectors.housing import *  # noqa: F403
from apartments.selectors.stations import *  # noqa: F403
