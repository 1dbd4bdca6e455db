"""The plan's yearly targets as policy parameters (POLICY.md "Internships, traineeships and
jobs"): 10,000 practice positions and more than 10,000 graduates retained a year."""

from django.db import migrations

from portal.migration_utils import parameter_rows

TARGETS = [
    ("jobs-positions-target", 10000, "Plan item 6: 10,000 practice positions a year"),
    ("jobs-hires-target", 10000, "万名大学生留洛计划: more than 10,000 graduates retained a year"),
]


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_search_trigram"), ("portal", "0003_parameters")]
    operations = [migrations.RunPython(*parameter_rows(TARGETS))]
