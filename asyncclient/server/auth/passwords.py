"""Password hashing (argon2id through argon2-cffi) and bearer-token digests.

A password check costs one argon2 verification (hundreds of milliseconds by design), too slow to repeat on
every ingest request. ``VerifiedPasswords`` remembers, per process, that a password matched a given stored
hash: the user row is still read on every request, so a changed password or a deleted user takes effect at
once on every worker, and only the expensive hash is skipped. Memory holds keyed digests, never passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): the library default (64 MiB, 4 lanes) takes
# ~0.5 s of a loaded 2-core machine per check, which invites a denial of service by wrong passwords.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Compared against when the user does not exist, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
TOKEN_PREFIX = "acx_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-time (argon2) check; ``stored_hash=None`` (no such user) burns the same time and fails."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A bearer token: 256 random bits, shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash suffices (no dictionary to guess from); only the
    # digest is stored and a lookup by digest leaks nothing about other tokens.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class VerifiedPasswords:
    """(stored hash, keyed digest of a password) pairs known to match, bounded LRU."""

    def __init__(self, max_size: int = 10_000):
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[tuple[str, bytes], None] = OrderedDict()
        self._max_size = max_size
        self._lock = threading.Lock()

    def _entry(self, stored_hash: str, password: str) -> tuple[str, bytes]:
        return stored_hash, hmac.new(self._key, password.encode("utf-8", "surrogatepass"), "sha256").digest()

    def check(self, stored_hash: str | None, password: str) -> bool:
        if stored_hash is None:
            return verify_password(None, password)
        entry = self._entry(stored_hash, password)
        with self._lock:
            if entry in self._seen:
                self._seen.move_to_end(entry)
                return True
        if not verify_password(stored_hash, password):
            return False
        with self._lock:
            self._seen[entry] = None
            while len(self._seen) > self._max_size:
                self._seen.popitem(last=False)
        return True
