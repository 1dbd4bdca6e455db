import datetime as dt

from django.db import migrations

PARAMETERS = [
    ("events-offer-hours", 12, "Hours a freed place is held for the first on the waiting list"),
    ("events-reminder-hours", 24, "Hours before the start when participants get a reminder"),
]


def load(apps, schema_editor):
    Parameter = apps.get_model("portal", "Parameter")
    for key, value, note in PARAMETERS:
        Parameter.objects.get_or_create(key=key, effective_from=dt.date(2021, 12, 2), district=None, defaults={"value": value, "note": note})


def unload(apps, schema_editor):
    apps.get_model("portal", "Parameter").objects.filter(key__in=[p[0] for p in PARAMETERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("portal", "0003_parameters")]
    operations = [migrations.RunPython(load, unload)]
