"""The plan's yearly targets as policy parameters (POLICY.md "Internships, traineeships and
jobs"): 10,000 practice positions and more than 10,000 graduates retained a year."""

import datetime as dt

from django.db import migrations

TARGETS = [
    ("jobs-positions-target", 10000, "Plan item 6: 10,000 practice positions a year"),
    ("jobs-hires-target", 10000, "万名大学生留洛计划: more than 10,000 graduates retained a year"),
]


def load(apps, schema_editor):
    Parameter = apps.get_model("portal", "Parameter")
    for key, value, note in TARGETS:
        Parameter.objects.get_or_create(
            key=key, effective_from=dt.date(2021, 12, 2), district=None, defaults={"value": value, "note": note}
        )


def unload(apps, schema_editor):
    apps.get_model("portal", "Parameter").objects.filter(key__in=[t[0] for t in TARGETS]).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_search_trigram"), ("portal", "0003_parameters")]
    operations = [migrations.RunPython(load, unload)]
