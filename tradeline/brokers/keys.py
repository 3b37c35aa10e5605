"""API keys and admin tokens: random secrets shown once, stored as SHA-256 hashes.

A key looks like `tlm_pk_<8-char id>_<32-char secret>`. The part before the last underscore is
the stored, unique `prefix` that finds the row; the whole key is hashed and compared in constant time.
"""

import hashlib
import hmac
import secrets
import string

PUBLISHABLE_PREFIX = "tlm_pk_"
SECRET_PREFIX = "tlm_sk_"
ADMIN_TOKEN_PREFIX = "tlm_at_"
_ALPHABET = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key(kind_prefix: str) -> tuple[str, str, str]:
    """Return (plaintext key, prefix, hash)."""
    prefix = f"{kind_prefix}{_random(10)}"
    key = f"{prefix}_{_random(32)}"
    return key, prefix, hash_key(key)


def split_prefix(key: str) -> str | None:
    """The lookup prefix of a presented key, or None if it is not shaped like one of ours."""
    if not isinstance(key, str) or len(key) > 100 or "_" not in key:
        return None
    prefix, _, secret = key.rpartition("_")
    if not secret or not prefix.startswith(("tlm_pk_", "tlm_sk_", "tlm_at_")):
        return None
    return prefix


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
