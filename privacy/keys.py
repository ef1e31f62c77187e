"""The keyed hash that recognises an erased post without keeping its id in clear."""

import hashlib
import hmac

from django.conf import settings


def _key() -> bytes:
    given = getattr(settings, "PRIVACY_HASH_KEY", "")
    if given:
        return given.encode()
    return hashlib.sha256(("privacy-post-key:" + settings.SECRET_KEY).encode()).digest()


def post_key(channel_id: int, external_id: str) -> str:
    """hex HMAC-SHA256 of "<channel id>:<external id>"."""
    message = f"{channel_id}:{external_id}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()
