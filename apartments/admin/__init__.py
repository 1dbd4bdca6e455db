"""Staff admin of youth stations and of housing: projects and units, allocation rounds,
applications and offers, leases."""

from apartments.admin import applications, leases, projects, rounds, stations  # noqa: F401
