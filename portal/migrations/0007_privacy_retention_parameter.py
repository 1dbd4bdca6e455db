"""The retention period of closed applications (ADR 0009): after it, the nightly job removes
their free texts, answers, attachments and personal snapshot and keeps the decision. Two
years is the portal's starting setting; city staff change it in the admin (a new dated row)."""

from django.db import migrations

from portal.migration_utils import parameter_rows

PARAMETERS = [
    (
        "privacy-retention-days",
        730,
        "Days a closed application keeps its personal details before they are anonymised (PIPL art. 19)",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_account_deletion_requests")]
    operations = [migrations.RunPython(*parameter_rows(PARAMETERS))]
