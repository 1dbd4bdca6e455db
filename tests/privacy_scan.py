"""Proof that personal data stays where ADR 0003 puts it: ``assert_no_plaintext(needles)`` fails
when any needle (e.g. a plaintext ID number) occurs in

- a ``pg_dump`` of the test database (the database the test connection uses; the data of a
  ``transactional_db`` or live-server test is committed, so pg_dump sees it), plus the decoded
  contents of ``django_session`` (stored signed and base64-encoded, so a dump cannot show them);
- every log record formatted during the test session (a handler on the root logger, installed
  when this module is imported and again at the start of every test by an autouse fixture in
  tests/conftest.py; records below the configured level are not made, as in production);
- the SMS and e-mail outboxes of the test settings (SMS may carry sign-in codes, never an ID
  number).

Browser journeys call it at the end with the numbers they typed. Findings name the table (or
log, or outbox) and show the line with each needle replaced by ``«needle N»``, so a failure
report does not repeat the number."""

from __future__ import annotations

import io
import logging
import os
import subprocess
from dataclasses import dataclass

from django.db import connection

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class CollectingHandler(logging.Handler):
    """Keeps every formatted record (with its traceback) for the scan."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted still counts, as raw text
            self.lines.append(f"{record.msg!r} {record.args!r}")


LOG_CAPTURE = CollectingHandler()


def install_log_capture() -> bool:
    """Put the collecting handler on the root logger; False when it had to be put back
    (something reconfigured logging, e.g. ``django.setup()`` run again by Celery's Django
    fix-up, and records may have been missed since)."""
    root = logging.getLogger()
    if LOG_CAPTURE in root.handlers:
        return True
    root.addHandler(LOG_CAPTURE)
    return False


# Importing this module (test modules do, at collection, after Django configured logging)
# starts the capture for the rest of the session.
install_log_capture()


@dataclass(frozen=True)
class Finding:
    where: str  # "table portal_applicantprofile", "log", "sms outbox", "mail outbox"
    context: str  # the line, needles masked

    def __str__(self) -> str:
        return f"{self.where}: {self.context}"


def _variants(needles: list[str]) -> list[str]:
    # Case-insensitive: an ID number's check character is X or x.
    return [n.upper() for n in needles if n]


def _mask(line: str, needles: list[str]) -> str:
    upper = line.upper()
    out = line
    for index, needle in enumerate(needles):
        start = upper.find(needle)
        while start != -1:
            out = out[:start] + f"«needle {index + 1}»".ljust(len(needle))[: len(needle)] + out[start + len(needle) :]
            upper = out.upper()
            start = upper.find(needle, start + len(needle))
    return out if len(out) <= 400 else out[:400] + "…"


def _scan_lines(where_of_line, lines, needles: list[str]) -> list[Finding]:
    found = []
    for where, line in where_of_line(lines):
        upper = line.upper()
        if any(needle in upper for needle in needles):
            found.append(Finding(where=where, context=_mask(line, needles)))
    return found


def _pg_dump_text() -> str:
    """``pg_dump --data-only`` of the database the test connection uses."""
    settings = connection.settings_dict
    command = ["pg_dump", "--data-only", "--no-owner", "--no-privileges", "--encoding=UTF8"]
    if settings.get("HOST"):
        command += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        command += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        command += ["--username", str(settings["USER"])]
    command.append(str(settings["NAME"]))
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    result = subprocess.run(command, capture_output=True, env=env, timeout=300, check=False)
    if result.returncode != 0:
        raise AssertionError(f"pg_dump failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return result.stdout.decode("utf-8", errors="replace")


def _copy_text() -> str:
    """The same text as pg_dump's data section, read through the test connection itself:
    used when the test's data is not committed (a ``db`` test runs inside a transaction that
    pg_dump, another session, cannot see)."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            buffer = io.StringIO()
            quoted = connection.ops.quote_name(table)
            cursor.cursor.copy_expert(f"COPY {quoted} TO STDOUT", buffer)
            out.append(f"COPY public.{quoted} FROM stdin;\n{buffer.getvalue()}\\.\n")
    return "".join(out)


def dump_database() -> str:
    """The data of the test database as pg_dump writes it."""
    if connection.vendor != "postgresql":
        raise AssertionError("The database scan needs PostgreSQL (mark the test `postgres`).")
    connection.ensure_connection()
    return _copy_text() if connection.in_atomic_block else _pg_dump_text()


def _dump_lines(lines):
    table = "?"
    for line in lines:
        if line.startswith("COPY "):
            table = line.split()[1].split("(")[0].removeprefix("public.").strip('"')
            continue
        yield f"table {table}", line


def _session_lines(_lines):
    from django.contrib.sessions.backends.db import SessionStore

    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data FROM django_session")
        rows = cursor.fetchall()
    for _key, data in rows:
        yield "table django_session (decoded)", repr(SessionStore().decode(data))


def scan_database(needles: list[str]) -> list[Finding]:
    needles = _variants(needles)
    dump = dump_database()
    return _scan_lines(_dump_lines, dump.splitlines(), needles) + _scan_lines(_session_lines, None, needles)


def scan_logs(needles: list[str]) -> list[Finding]:
    if not install_log_capture():
        raise AssertionError(
            "The log capture was removed from the root logger by a logging reconfiguration during this "
            "test (it is back now); its logs since cannot be vouched for. Avoid re-running django.setup() "
            "or dictConfig in tests."
        )
    needles = _variants(needles)
    lines = [line for record in LOG_CAPTURE.lines for line in record.splitlines()]
    return _scan_lines(lambda ls: (("log", line) for line in ls), lines, needles)


def scan_outboxes(needles: list[str]) -> list[Finding]:
    from django.core import mail

    from portal import sms

    needles = _variants(needles)
    texts = [("sms outbox", f"{m.get('to')} {m.get('message')}") for m in sms.outbox]
    texts += [("mail outbox", f"{m.subject}\n{m.body}") for m in getattr(mail, "outbox", [])]
    return _scan_lines(lambda items: ((w, line) for w, text in items for line in text.splitlines()), texts, needles)


def find_plaintext(needles: list[str], *, database: bool = True, logs: bool = True) -> list[Finding]:
    """Every place a needle occurs (case-insensitively)."""
    found = []
    if database:
        found += scan_database(needles)
    if logs:
        found += scan_logs(needles) + scan_outboxes(needles)
    return found


def assert_no_plaintext(needles: list[str], *, database: bool = True, logs: bool = True) -> None:
    """Fail, listing where, if any needle occurs in the database dump, the session's logs or
    the outboxes."""
    needles = [n for n in needles if n]
    assert needles, "assert_no_plaintext needs at least one value to look for"
    found = find_plaintext(needles, database=database, logs=logs)
    assert not found, f"{len(found)} plaintext occurrence(s) of personal data:\n" + "\n".join(
        str(f) for f in found[:50]
    )
