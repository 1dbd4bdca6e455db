"""Helpers for data migrations. Kept stable: migrations import them forever."""

import datetime as dt

PLAN_DATE = dt.date(2021, 12, 2)  # the action plan's date: when the starting values took effect


def parameter_rows(rows, effective_from=PLAN_DATE):
    """(forwards, backwards) functions that load or remove city-wide policy parameters given
    as (key, value, note) rows, for migrations.RunPython."""

    def forwards(apps, schema_editor):
        Parameter = apps.get_model("portal", "Parameter")
        for key, value, note in rows:
            Parameter.objects.get_or_create(
                key=key, effective_from=effective_from, district=None, defaults={"value": value, "note": note}
            )

    def backwards(apps, schema_editor):
        apps.get_model("portal", "Parameter").objects.filter(key__in=[row[0] for row in rows]).delete()

    return forwards, backwards
