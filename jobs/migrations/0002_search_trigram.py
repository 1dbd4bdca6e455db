"""Trigram index for position search on PostgreSQL. ``icontains`` compiles to
UPPER(search_text) LIKE UPPER(%q%), which a GIN index on UPPER(search_text) with
gin_trgm_ops answers for Chinese and English alike. SQLite falls back to a scan."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS position_search_trgm ON jobs_position "
        "USING gin (UPPER(search_text) gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS position_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
