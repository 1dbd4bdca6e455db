"""Production settings: no insecure defaults. Every secret comes from the environment and
the process refuses to start without it (README "Production" lists the variables)."""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import PII_ENCRYPTION_KEYS, PII_HASH_KEY, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Rate limits and one-time codes live in the cache, so every web process must share it.
CACHES = {"default": env.cache("CACHE_URL")}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
# Uploads are shared data: with more than one machine this is a shared mount.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# TLS ends at the proxy in front of gunicorn, which must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxy's own address is REMOTE_ADDR; the client's is the one the proxy appends to
# X-Forwarded-For. Rate limits per address (sign-in failures, SMS codes) must count clients,
# not the proxy, or ten wrong passwords anywhere would lock everyone out.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe /healthz over plain HTTP on the internal network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Not optional in production: staff sign in with an authenticator app (portal.security).
PORTAL_STAFF_MFA_REQUIRED = True

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
SMS_BACKEND = env("SMS_BACKEND")


def _refuse_weak_secrets() -> None:
    """Fail at start-up, not at the first ID number: the development keys are public, and a
    key that is not a Fernet key would only show when a profile is saved."""
    if SMS_BACKEND.rsplit(".", 1)[-1] in ("ConsoleSmsBackend", "FileSmsBackend", "LocmemSmsBackend"):
        raise ImproperlyConfigured("SMS_BACKEND must be a real gateway: the development backends print or store codes.")
    if SECRET_KEY.startswith(("dev-", "django-insecure")) or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a random value of at least 50 characters.")
    if not PII_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS is empty.")
    for key in PII_ENCRYPTION_KEYS:
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(
                "PII_ENCRYPTION_KEYS must be comma-separated Fernet keys (Fernet.generate_key())."
            ) from exc
        if key == "ZGV2LW9ubHktZmVybmV0LWtleS1ub3QtZm9yLXByb2Q=":
            raise ImproperlyConfigured("PII_ENCRYPTION_KEYS holds the public development key.")
    if len(PII_HASH_KEY) < 32 or PII_HASH_KEY.startswith("dev-"):
        raise ImproperlyConfigured("PII_HASH_KEY must be a random value of at least 32 characters.")
    if PII_HASH_KEY == SECRET_KEY:
        raise ImproperlyConfigured("PII_HASH_KEY must differ from DJANGO_SECRET_KEY.")


_refuse_weak_secrets()
