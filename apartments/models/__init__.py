"""The apartments app's models: youth stations (``stations``) and talent apartments and
affordable rentals (``housing``)."""

from apartments.models.housing import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    LeaseRecheck,
    ProjectPhoto,
    RoundUnitType,
    Unit,
    UnitType,
)
from apartments.models.stations import BedAlert, FollowUp, Station, StationClosure, StationNight, Stay

__all__ = [
    "AllocationRound",
    "BedAlert",
    "FollowUp",
    "HousingApplication",
    "HousingOffer",
    "HousingProject",
    "Lease",
    "LeaseRecheck",
    "ProjectPhoto",
    "RoundUnitType",
    "Station",
    "StationClosure",
    "StationNight",
    "Stay",
    "Unit",
    "UnitType",
]
