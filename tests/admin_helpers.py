"""Helpers the staff-admin tests share (housing, subsidies): signing a staff member in, the
messages a response left (in English), the rows of a change list, and a CSV download's rows."""

from __future__ import annotations

import csv
import io

from django.contrib.messages import get_messages
from django.utils import translation


def login(client, user):
    client.force_login(user)
    return client


def messages(response) -> list[str]:
    with translation.override("en"):
        return [str(m) for m in get_messages(response.wsgi_request)]


def result_pks(response) -> set[int]:
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
