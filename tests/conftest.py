"""Shared fixtures: one account per role of the permission matrix, and the rule that tests
needing PostgreSQL, Redis + a worker, or a browser skip on a bare machine but fail under
CI=true (they must run there)."""

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from portal import sms

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _missing(marker: str) -> str | None:
    if marker == "postgres":
        engine = settings.DATABASES["default"]["ENGINE"]
        return None if "postgresql" in engine else "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker == "redis":
        try:
            import redis

            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except Exception as exc:
            return f"needs Redis at {REDIS_URL}: {exc}"
        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            return "the worker integration test needs PostgreSQL (a worker cannot share an in-memory database)"
        return None
    if marker == "browser":
        if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
            return "needs /usr/bin/chromium (apt-get install -y chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs the playwright package"
        return None
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker):
            reason = _missing(marker)
            if reason:
                if IN_CI:
                    pytest.fail(f"CI=true and this test cannot run: {reason}", pytrace=False)
                pytest.skip(reason)


@pytest.fixture(autouse=True)
def _clean_outboxes():
    cache.clear()
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request through the test client leaves
    the language it activated on the thread, which would make later tests depend on order."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def district_1(db):
    from portal.models import District

    return District.objects.get(code="luolong")


@pytest.fixture
def district_2(db):
    from portal.models import District

    return District.objects.get(code="jianxi")


@pytest.fixture
def graduate_a(db, district_1):
    from tests.portal.factories import ProfileFactory

    return ProfileFactory(district=district_1, complete=True).user


@pytest.fixture
def graduate_b(db, district_2):
    from tests.portal.factories import ProfileFactory

    return ProfileFactory(district=district_2, complete=True).user


@pytest.fixture
def employer_x(db, district_1):
    from tests.portal.factories import OrganisationFactory

    return OrganisationFactory(district=district_1).memberships.get().user


@pytest.fixture
def employer_y(db, district_2):
    from tests.portal.factories import OrganisationFactory

    return OrganisationFactory(district=district_2).memberships.get().user


@pytest.fixture
def staff_1(db, district_1):
    from tests.portal.factories import DistrictStaffFactory

    return DistrictStaffFactory(districts=[district_1])


@pytest.fixture
def staff_2(db, district_2):
    from tests.portal.factories import DistrictStaffFactory

    return DistrictStaffFactory(districts=[district_2])


@pytest.fixture
def city_staff(db):
    from tests.portal.factories import CityStaffFactory

    return CityStaffFactory()


@pytest.fixture
def at_the_event(monkeypatch):
    """``at_the_event(event)`` moves ``timezone.now`` to ten minutes after the event's start,
    when tickets are checked in (the check-in window opens two hours before the start).
    Other threads of the process (a live server) see the same moment."""
    import datetime as dt

    from django.utils import timezone

    def go(event) -> dt.datetime:
        moment = event.starts_at + dt.timedelta(minutes=10)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return go


@pytest.fixture(autouse=True)
def _log_capture():
    """Every test starts with the privacy scan's log capture on the root logger: a test that
    reconfigures logging (a worker fix-up running ``django.setup()`` again) must not leave
    the tests after it unscanned. ``scan_logs`` fails if it is removed during a test."""
    from tests.privacy_scan import install_log_capture

    install_log_capture()
    yield
