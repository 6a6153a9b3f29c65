"""Password hashing. scrypt with a cost tuned so one check costs ~50–250 ms of CPU
here (figure in the README), which slows guessing without slowing sign-in."""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

# scrypt N=2**15, r=8, p=1: ~145 ms of CPU per check on this machine's kind (tests/perf prints it)
METHOD = "scrypt:32768:8:1"
# What production uses; tests/conftest.py swaps METHOD for speed, tests/perf measures this.
PRODUCTION_METHOD = METHOD
# Hashes to check against when the login ID is unknown, so both paths take as long:
# made on first use (not at import) and per method, so it always costs what a real check costs.
_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    if METHOD not in _dummy_hashes:
        _dummy_hashes[METHOD] = generate_password_hash("not-a-real-password", method=METHOD)
    return _dummy_hashes[METHOD]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
