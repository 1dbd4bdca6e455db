"""The apartments app's rules: youth stations and housing (talent apartments, affordable
rentals), one module each; callers import from the package."""

from apartments.rules.housing import *  # noqa: F403
from apartments.rules.stations import *  # noqa: F403
