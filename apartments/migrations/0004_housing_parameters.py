"""Housing policy parameters (POLICY.md "Talent apartments and affordable rentals"): rent-free
up to 3 years in talent apartments, 1–3 rent-free months for out-of-town graduates in
affordable rentals, at least 40% of affordable units for graduates, units under 70 m². The
other values are the portal's starting settings, which city staff change in the admin."""

from django.db import migrations

from portal.migration_utils import parameter_rows

PARAMETERS = [
    ("housing-affordable-graduation-years", 3, "Affordable rentals: graduate list for graduates of the last N years"),
    ("housing-affordable-graduate-share-percent", 40, "Items 12, 14: at least 40% of affordable units go first to graduates"),
    ("housing-affordable-rent-free-months", 3, "Items 12, 14: out-of-town graduates get 1 to 3 months rent-free"),
    ("housing-talent-rent-free-months", 36, "Item 11 (Luolong): rent-free up to 3 years, counted across renewals"),
    ("housing-reduced-rent-percent", 50, "Talent apartments: rent after the rent-free term, % of the rent (免租减租)"),
    ("housing-offer-days", 7, "Days an applicant has to accept or decline an offered unit"),
    ("housing-lease-months", 12, "Length of a lease and of each renewal, in months"),
    ("housing-affordable-max-area", 70, "Items 12, 14: affordable rental units are under 70 m²"),
]


class Migration(migrations.Migration):
    dependencies = [("apartments", "0003_housing"), ("portal", "0003_parameters")]
    operations = [migrations.RunPython(*parameter_rows(PARAMETERS))]
