"""Staff admin of housing: projects, rounds with the draw, applications, offers, leases."""
