"""Position search on a lower-case ``search_text`` with a plain LIKE: the trigram index moves
from UPPER(search_text) to the column itself, and existing rows are lower-cased. (Searching
with icontains made PostgreSQL compute UPPER() of every row's text whenever the planner
chose a scan, which is most searches: common words match a large share of positions.)"""

from django.db import migrations


def lower_existing(apps, schema_editor):
    Position = apps.get_model("jobs", "Position")
    batch = []
    for position in Position.objects.only("pk", "search_text").iterator(chunk_size=2000):
        lowered = position.search_text.lower()
        if lowered != position.search_text:
            position.search_text = lowered
            batch.append(position)
        if len(batch) >= 2000:
            Position.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Position.objects.bulk_update(batch, ["search_text"])


def index_forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS position_search_trgm")
    schema_editor.execute("CREATE INDEX position_search_trgm ON jobs_position USING gin (search_text gin_trgm_ops)")


def index_backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS position_search_trgm")
    schema_editor.execute("CREATE INDEX position_search_trgm ON jobs_position USING gin (UPPER(search_text) gin_trgm_ops)")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_position_validation_messages")]
    operations = [
        migrations.RunPython(lower_existing, migrations.RunPython.noop),
        migrations.RunPython(index_forwards, index_backwards),
    ]
