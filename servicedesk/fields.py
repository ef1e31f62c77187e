"""EncryptedTextField: secrets (platform tokens, webhook secrets) encrypted at rest with Fernet."""

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    """FIELD_ENCRYPTION_KEY (comma-separated for rotation: newest first), else from SECRET_KEY."""
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEY.split(",") if key.strip()]
    if not keys:
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError(
            "The stored secret cannot be decrypted with the configured key."
        ) from error


class EncryptedTextField(models.TextField):
    """A text value stored encrypted; the database, dumps and logs only see the token."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if value in (None, ""):
            return ""
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return ""
        return encrypt(value)
