"""Which registry entry explains each probe that does not follow the oracle.

Keys are (report column, case key); values are ids in ``tests/discrepancies.toml``. A
probe whose verdict is a difference and has no key here fails the run as an unregistered
difference; a probe listed here that follows the oracle fails it as stale.
"""

from __future__ import annotations

EXPECTED: dict[tuple[str, str], str] = {
}
