"""Password hashing (argon2id, re-hashed on sign-in when the parameters change) and the password
rules: a minimum length by role and no password from a list of 30,000 common and breached ones."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

MIN_LENGTH = {"director": 12, "facilitator": 12, "participant": 8}
MAX_LENGTH = 256  # argon2 takes any length; a cap keeps a huge form post from costing seconds

COSTS = {
    "standard": PasswordHasher(),  # argon2id with the library's recommended parameters (64 MiB, 3 passes)
    # The test suite makes hundreds of accounts; 0.3 s each would cost minutes.
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


def hash_password(password: str, cost: str = "standard") -> str:
    """An argon2id hash of the password at the given cost ("standard", or "fast" for tests)."""
    return COSTS[cost].hash(password)


def verify_password(stored: str, password: str) -> bool:
    """True if the password matches the stored hash (argon2, or an older werkzeug hash)."""
    if not stored.startswith("$argon2"):
        return check_password_hash(stored, password)  # accounts made before argon2: re-hashed at sign-in
    try:
        return COSTS["standard"].verify(stored, password)  # the parameters are read from the hash
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, cost: str = "standard") -> bool:
    """True if the hash is not argon2 with the cost's parameters (re-hash it after a good sign-in)."""
    return not stored.startswith("$argon2") or COSTS[cost].check_needs_rehash(stored)


@cache
def _common() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords of public breaches, ranked.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, role: str, email: str = "") -> str | None:
    """Why this password may not be used by an account of this role, or None if it may."""
    shortest = MIN_LENGTH.get(role, 12)
    if len(password) < shortest:
        return _("Use at least %(num)s characters.", num=shortest)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(num)s characters.", num=MAX_LENGTH)
    folded = password.lower()
    if folded in _common() or (len(set(folded)) <= 2):
        return _("That password is too common: it is on lists that attackers try first. Choose another.")
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in folded:
        return _("Do not use your email address in your password.")
    return None
