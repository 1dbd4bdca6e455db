from django.db import migrations

from portal.migration_utils import parameter_rows

PARAMETERS = [
    ("events-offer-hours", 12, "Hours a freed place is held for the first on the waiting list"),
    ("events-reminder-hours", 24, "Hours before the start when participants get a reminder"),
]


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("portal", "0003_parameters")]
    operations = [migrations.RunPython(*parameter_rows(PARAMETERS))]
