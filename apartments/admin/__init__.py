"""Staff admin of youth stations and of housing projects, rounds and leases."""

from apartments.admin import housing, stations  # noqa: F401
