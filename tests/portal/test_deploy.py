"""The settings modules as an operator meets them: production passes Django's deployment
checks with the variables the README lists and refuses to start without its secrets;
development runs with nothing set at all. Each runs in a fresh interpreter with a clean
environment, so nothing from the test settings leaks in."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides: str | None) -> dict[str, str]:
    """The README's production variables with sample values."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "rencai.example.gov.cn",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://rencai.example.gov.cn",
        "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
        "CACHE_URL": "redis://redis.internal:6379/1",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        "PII_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "PII_HASH_KEY": secrets.token_urlsafe(48),
        "SMS_BACKEND": "portal.sms.HttpGatewaySmsBackend",
        "SMS_GATEWAY_URL": "https://sms-gateway.example.invalid/send",
        "SMS_GATEWAY_TOKEN": "sample-token",
        "EMAIL_HOST": "smtp.example.gov.cn",
        "EMAIL_PORT": "587",
        "EMAIL_USE_TLS": "true",
        "DEFAULT_FROM_EMAIL": "noreply@rencai.example.gov.cn",
        "DJANGO_MEDIA_ROOT": "/srv/portal/media",
        "DJANGO_STATIC_ROOT": "/srv/portal/static",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "mentions"),
    [
        pytest.param({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY", id="no-secret-key"),
        pytest.param({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY", id="short-secret-key"),
        pytest.param({"PII_ENCRYPTION_KEYS": None}, "PII_ENCRYPTION_KEYS", id="no-encryption-keys"),
        pytest.param({"PII_ENCRYPTION_KEYS": "not-a-fernet-key"}, "PII_ENCRYPTION_KEYS", id="bad-encryption-key"),
        # The public development key must never encrypt real ID numbers.
        pytest.param(
            {"PII_ENCRYPTION_KEYS": "ZGV2LW9ubHktZmVybmV0LWtleS1ub3QtZm9yLXByb2Q="},
            "PII_ENCRYPTION_KEYS",
            id="development-encryption-key",
        ),
        pytest.param({"PII_HASH_KEY": None}, "PII_HASH_KEY", id="no-hash-key"),
        pytest.param({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS", id="no-allowed-hosts"),
        pytest.param({"DATABASE_URL": None}, "DATABASE_URL", id="no-database"),
        pytest.param({"CACHE_URL": None}, "CACHE_URL", id="no-cache"),
        pytest.param({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL", id="no-broker"),
        pytest.param({"SMS_BACKEND": None}, "SMS_BACKEND", id="no-sms-backend"),
        pytest.param({"DJANGO_MEDIA_ROOT": None}, "DJANGO_MEDIA_ROOT", id="no-media-root"),
    ],
)
def test_production_settings_refuse_to_start_without_their_secrets(overrides, mentions):
    env = production_env(**overrides)
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert mentions in result.stderr
    # The refusal names the variable and never echoes a secret.
    for name in ("DJANGO_SECRET_KEY", "PII_HASH_KEY"):
        if name in env and name not in overrides:
            assert env[name] not in result.stderr


def test_development_settings_work_with_an_empty_environment():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    result = manage("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
