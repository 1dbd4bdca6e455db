"""Youth-station policy parameters (POLICY.md "Youth stations"): up to 15 free nights; the
other values are the portal's starting settings, which city staff change in the admin."""

from django.db import migrations

from portal.migration_utils import parameter_rows

PARAMETERS = [
    ("stations-max-nights", 15, "Plan items 4 and 13: free stay of up to 15 days"),
    ("stations-graduation-years", 2, "Graduated within this many years (or graduating within one year)"),
    ("stations-booking-min-hours", 2, "Book at least this many hours before 14:00 on the check-in day"),
    ("stations-no-show-forfeit-nights", 1, "1: the nights of a no-show count against the 15; 0: they are returned"),
    ("stations-no-show-block-days", 30, "Days a graduate cannot book after a no-show (0: no block)"),
    ("stations-follow-up-answer-days", 5, "Days to answer a follow-up before staff are asked to call"),
]


class Migration(migrations.Migration):
    dependencies = [("apartments", "0001_initial"), ("portal", "0003_parameters")]
    operations = [migrations.RunPython(*parameter_rows(PARAMETERS))]
