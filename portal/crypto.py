"""Encryption at rest and keyed hashing for personal information (PIPL).

ID numbers are stored as Fernet tokens (AES-128-CBC + HMAC) under keys from the
environment; MultiFernet lets operators rotate keys (new key first, old ones after).
Uniqueness and look-up use an HMAC-SHA256 of the normalised value under a separate key,
so the database never holds a value from which the number can be read back."""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "PII_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes)."
        ) from exc


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.PII_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.PII_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("Cannot decrypt personal data: wrong PII_ENCRYPTION_KEYS.") from exc


def keyed_hash(value: str) -> str:
    key = settings.PII_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
