"""Run the retention job by hand: anonymise closed applications past the retention period
(the same service the nightly beat task calls; ADR 0009)."""

from django.core.management.base import BaseCommand

from portal.services.deletion import RETENTION_BATCH_SIZE, retention_cutoff, retention_run


class Command(BaseCommand):
    help = "Anonymise closed applications older than the retention period (policy parameter privacy-retention-days)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=RETENTION_BATCH_SIZE)

    def handle(self, *args, batch_size, **options):
        self.stdout.write(f"Closed before: {retention_cutoff().isoformat()}")
        counts = retention_run(batch_size=batch_size)
        for section, count in counts.items():
            self.stdout.write(f"{section}: {count}")
        self.stdout.write(self.style.SUCCESS(f"Anonymised {sum(counts.values())} record(s)."))
