"""Password hashing. scrypt with a cost tuned so one check costs ~50–250 ms of CPU
here (figure in the README), which slows guessing without slowing sign-in."""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

# scrypt N=2**15, r=8, p=1: ~145 ms of CPU per check on this machine's kind (tests/perf prints it)
METHOD = "scrypt:32768:8:1"
# What production uses; tests/conftest.py swaps METHOD for speed, tests/perf measures this.
PRODUCTION_METHOD = METHOD
# A hash to check against when the login ID is unknown, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
