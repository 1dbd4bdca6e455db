"""Settings for the test suite: development settings with fast hashing and in-memory
mail and SMS outboxes. The database comes from DATABASE_URL (PostgreSQL in CI)."""

import tempfile

from .development import *  # noqa: F403
from .development import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-memory outboxes for the test process. The worker that the Celery integration test starts
# writes to files instead (with SMS_FILE_PATH); TEST_-prefixed names keep a developer's .env (EMAIL_BACKEND,
# SMS_BACKEND for development) from changing what the suite uses.
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH", default=None)
SMS_BACKEND = env("TEST_SMS_BACKEND", default="portal.sms.LocmemSmsBackend")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=tempfile.mkdtemp(prefix="portal-test-media-"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEBUG = False

# Off for the suite's staff fixtures; tests/portal/test_security.py switches it on.
PORTAL_STAFF_MFA_REQUIRED = False
