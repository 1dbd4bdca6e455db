"""Settings shared by every environment. Everything that differs between machines
comes from the environment (django-environ); see README "Production"."""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "portal",
    "apartments",
    "jobs",
    "subsidies",
    "events",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.loadshed.LoadShedMiddleware",  # early: a refused request costs nothing (ADR 0010)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.security.StaffMfaMiddleware",
    "portal.security.ContentSecurityPolicyMiddleware",
    "portal.middleware.RateLimitedMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "portal.validators.PasswordLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:profile"

# --- Languages: Simplified Chinese first, English second ----------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# 2026-12-02 and 14:30 in both languages, as in messages and exports (portal/formats).
FORMAT_MODULE_PATH = ["portal.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads are private: stored outside the static path and served only through
# portal.views.document_download after a permission check. MEDIA_URL is never routed.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Cache (rate limits, allauth codes): shared between processes in production ------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://portal")}

# --- Load shedding (portal.loadshed, docs/adr/0010-load-shedding.md) --------------------
# Requests admitted into the application at once per process (0: no bound); run gunicorn with
# more threads than this (--threads), so the others are answered quickly instead of queueing.
LOADSHED_MAX_IN_FLIGHT = env.int("LOADSHED_MAX_IN_FLIGHT", default=6)
# How long a request waits for a place before "busy, try again" (503), in seconds, and how
# many may wait at once (the others are answered at once; keep threads > in flight + waiting).
LOADSHED_QUEUE_TIMEOUT = env.float("LOADSHED_QUEUE_TIMEOUT", default=0.5)
LOADSHED_MAX_WAITING = env.int("LOADSHED_MAX_WAITING", default=6)
# Retry-After of the 503, in seconds (each answer says between this and twice this).
LOADSHED_RETRY_AFTER = env.int("LOADSHED_RETRY_AFTER", default=2)
# PostgreSQL lock_timeout and statement_timeout of a request's session, in seconds (0: off);
# the statement limit stays below gunicorn's worker timeout (30 s).
LOADSHED_LOCK_TIMEOUT = env.float("LOADSHED_LOCK_TIMEOUT", default=3.0)
LOADSHED_STATEMENT_TIMEOUT = env.float("LOADSHED_STATEMENT_TIMEOUT", default=25.0)

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# With no broker configured the portal runs tasks in-process, so one command works anywhere.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "jobs-positions-expire": {"task": "jobs.tasks.positions_expire", "schedule": 3600.0},
    "stations-no-show": {"task": "apartments.tasks.stays_mark_no_show", "schedule": crontab(hour=6, minute=0)},
    "stations-job-push": {"task": "apartments.tasks.residents_job_push", "schedule": crontab(hour=8, minute=30)},
    "stations-follow-up": {"task": "apartments.tasks.follow_ups_run", "schedule": crontab(hour=10, minute=0)},
    "housing-offers": {"task": "apartments.tasks.housing_offers_run", "schedule": 300.0},
    "housing-rechecks": {"task": "apartments.tasks.leases_recheck_remind", "schedule": crontab(hour=9, minute=0)},
    "subsidies-notices": {"task": "subsidies.tasks.subsidy_notices_close", "schedule": crontab(hour=1, minute=0)},
    "subsidies-screening": {"task": "subsidies.tasks.subsidies_screen", "schedule": crontab(hour=7, minute=30)},
    "events-offers-expire": {"task": "events.tasks.offers_expire", "schedule": 300.0},
    "events-no-shows": {"task": "events.tasks.events_mark_no_shows", "schedule": 3600.0},
    "events-reminders": {"task": "events.tasks.events_send_reminders", "schedule": 900.0},
    # Closed applications past the retention period (policy parameter privacy-retention-days).
    "privacy-retention": {"task": "portal.tasks.privacy_retention_run", "schedule": crontab(hour=2, minute=30)},
}

# --- E-mail and SMS ---------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="洛阳青年人才服务平台 <noreply@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_BACKEND = env("SMS_BACKEND", default="portal.sms.ConsoleSmsBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=BASE_DIR / "var" / "sms")
SMS_SIGN = env("SMS_SIGN", default="洛阳青年")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", default="")

# --- Personal information (PIPL) -----------------------------------------------------
# Fernet key(s) for ID numbers at rest; the first encrypts, all decrypt (key rotation).
PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS")
# Separate secret for the keyed hash that makes ID numbers unique and searchable.
PII_HASH_KEY = env("PII_HASH_KEY")
PORTAL_CONSENT_VERSION = "2026-11"
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
DOCUMENT_MAX_PER_USER = env.int("DOCUMENT_MAX_PER_USER", default=20)
DOCUMENT_MAX_PIXELS = 40_000_000

# --- django-allauth: e-mail or phone, SMS one-time codes, TOTP for staff --------------
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_FORMS = {"request_login_code": "portal.forms.RequestLoginCodeForm"}
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email", "password1*", "password2*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_phone": "1/30s/key,5/h/ip",
    "verify_phone": "1/30s/key,10/h/ip",
    "request_login_code": "1/30s/key,20/h/ip",
    "signup": "20/h/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Staff must set up and use an authenticator app (portal.security.StaffMfaMiddleware). On
# everywhere but the development demo and the test settings, which switch it off so the
# demo staff accounts open the admin at once; the tests that prove it switch it back on.
PORTAL_STAFF_MFA_REQUIRED = env.bool("PORTAL_STAFF_MFA_REQUIRED", default=True)

# --- Content-Security-Policy (portal.security) -------------------------------------------
# Scripts only from the portal itself: no inline script, no third party. Inline style
# attributes stay allowed (templates and the admin set widths and bar lengths with them);
# data: images are the QR codes of tickets and authenticator set-up.
PORTAL_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "media-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The camera is used only by the ticket check-in page (QR codes), on the portal's own origin.
PORTAL_PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
MFA_TOTP_ISSUER = "洛阳青年人才服务平台"

# --- API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a bad token answers 401 with WWW-Authenticate.
        "portal.security.PortalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "洛阳青年人才服务平台 API",
    "DESCRIPTION": "洛阳青年人才服务平台接口 / API of the Luoyang youth talent portal",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A pinned release, never "@latest": the API page runs this script (portal/urls.py).
    "SWAGGER_UI_DIST": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0",
    "SWAGGER_UI_FAVICON_HREF": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/favicon-32x32.png",
    # Several models have a "status" or "kind"; name each choice set after its class.
    "ENUM_NAME_OVERRIDES": {
        "OrganisationStatusEnum": "portal.constants.OrganisationStatus",
        "OrganisationKindEnum": "portal.constants.OrganisationKind",
        "PositionStatusEnum": "jobs.constants.PositionStatus",
        "PositionKindEnum": "jobs.constants.PositionKind",
        "ApplicationStatusEnum": "jobs.constants.ApplicationStatus",
        "EventKindEnum": "events.constants.EventKind",
        "EventStatusEnum": "events.constants.EventStatus",
        "RegistrationStatusEnum": "events.constants.RegistrationStatus",
        "VenueKindEnum": "events.constants.VenueKind",
        "ProjectKindEnum": "apartments.constants.ProjectKind",
        "RoundStatusEnum": "apartments.constants.RoundStatus",
        "HousingApplicationStatusEnum": "apartments.constants.HousingApplicationStatus",
        "OfferStatusEnum": "apartments.constants.OfferStatus",
        "LeaseStatusEnum": "apartments.constants.LeaseStatus",
        "DocumentKindEnum": "portal.constants.DocumentKind",
        "SubsidyStatusEnum": "subsidies.constants.SubsidyStatus",
    },
}

# --- Logging: never log request bodies (they can hold ID numbers) ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": env("CELERY_TRACE_LOG_LEVEL", default="WARNING")},
        "kombu.connection": {"level": "ERROR"},
    },
}
