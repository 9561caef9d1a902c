"""Password policy: long enough and hard to guess, judged by zxcvbn (Dropbox's strength estimator).

Refused: fewer than :data:`MIN_PASSWORD` characters, blank or whitespace-only, one character
repeated, equal to (or built around) the user name, and anything zxcvbn scores below
:data:`MIN_SCORE` (common passwords, keyboard walks, dictionary words with digits ...), with the
user name and the product name given to zxcvbn as words an attacker would try first.
NIST SP 800-63B §5.1.1.2 asks for the same: a minimum length, a check against lists of common or
compromised passwords, and no composition rules.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from carbonpeak.errors import CarbonpeakError

MIN_PASSWORD = 12
MAX_PASSWORD = 256
#: zxcvbn score 0-4; 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
MIN_SCORE = 3


class WeakPassword(CarbonpeakError):
    """The password does not meet the policy (the message says why, never echoes it)."""


def check_password(password: str, username: str = "") -> None:
    """Raise :class:`WeakPassword` if ``password`` is not acceptable for ``username``."""
    if not password.strip():
        raise WeakPassword("password must not be blank")
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"password must have at most {MAX_PASSWORD} characters")
    if len(set(password)) == 1:
        raise WeakPassword("password must not repeat one character")
    name = username.strip().casefold()
    if name and (password.casefold() == name or name in password.casefold()):
        raise WeakPassword("password must not be or contain the user name")
    result = zxcvbn(password[:100], user_inputs=[u for u in (username, "carbonpeak") if u])
    if int(result["score"]) < MIN_SCORE:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        raise WeakPassword(f"password is too weak: {hint.rstrip('.')}; use a longer phrase of uncommon words")
