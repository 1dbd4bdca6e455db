"""Development defaults: runs anywhere with nothing set (SQLite, eager Celery, console mail
and SMS). Never deploy these: the keys below are public."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "dev-insecure-secret-key-do-not-deploy")
# Public development keys: any real deployment sets its own (README "Production").
os.environ.setdefault("PII_ENCRYPTION_KEYS", "ZGV2LW9ubHktZmVybmV0LWtleS1ub3QtZm9yLXByb2Q=")
os.environ.setdefault("PII_HASH_KEY", "dev-only-hash-key-do-not-deploy")

from .base import *  # noqa: E402,F403
from .base import BASE_DIR, env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
SMS_BACKEND = env("SMS_BACKEND", default="portal.sms.FileSmsBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=BASE_DIR / "var" / "sms")

# The demo staff accounts open the admin without an authenticator app (base.py explains).
PORTAL_STAFF_MFA_REQUIRED = env.bool("PORTAL_STAFF_MFA_REQUIRED", default=False)
