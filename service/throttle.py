"""Login throttling: growing delays, never a permanent lockout (docs/security.md).

Failures are counted three ways, each with its own free attempts and then a delay that doubles
with every further failure:
- per account *and* address (the usual guessing attack): after 5 failures 1 s, then 2 s, 4 s …
  up to 15 min;
- per address (one address trying many accounts): 20 free, then the same doubling;
- per account from every address together (a distributed attack on one account): 50 free, then
  doubling only up to 60 s, so an attacker can slow the real user down but never lock them out.
A refused attempt (still waiting) is answered at once, without a password check and without
the database, and does not itself extend the delay. A success clears the account's counts.
Failures older than the window are forgotten. The state is per process and bounded in size
(least recently used keys go first), so a flood of invented names cannot exhaust memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0  # no attempt before this (monotonic seconds)


@dataclass(frozen=True)
class Limits:
    free: int
    max_delay: float


class LoginThrottle:
    def __init__(
        self,
        *,
        pair: Limits = Limits(5, 900.0),
        address: Limits = Limits(20, 900.0),
        account: Limits = Limits(50, 60.0),
        base_delay: float = 1.0,
        window: float = 3600.0,
        max_keys: int = 100_000,
        now: Callable[[], float] = time.monotonic,
    ):
        self.limits = {"pair": pair, "address": address, "account": account}
        self.base_delay = base_delay
        self.window = window
        self.max_keys = max_keys
        self.now = now
        self._counts: OrderedDict[tuple, _Count] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> LoginThrottle:
        return cls(
            pair=Limits(settings.login_free_attempts, settings.login_max_delay_seconds),
            address=Limits(settings.login_free_attempts_per_address, settings.login_max_delay_seconds),
            account=Limits(
                settings.login_free_attempts_per_account, settings.login_max_account_delay_seconds
            ),
        )

    @staticmethod
    def _keys(username: str, address: str) -> dict[str, tuple]:
        name = (username or "").strip().lower()[:100]
        return {
            "pair": ("pair", name, address),
            "address": ("address", address),
            "account": ("account", name),
        }

    def _get(self, key: tuple, now: float) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and now - count.last > self.window and now >= count.until:
            del self._counts[key]
            return None
        return count

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before this attempt may be checked (0: go ahead)."""
        now = self.now()
        with self._lock:
            waits = [
                count.until - now
                for key in self._keys(username, address).values()
                if (count := self._get(key, now)) is not None
            ]
        wait = max(waits, default=0.0)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = self.now()
        with self._lock:
            for kind, key in self._keys(username, address).items():
                count = self._get(key, now) or _Count()
                count.failures += 1
                count.last = now
                limits = self.limits[kind]
                over = count.failures - limits.free  # the free-th failure brings the first delay
                if over >= 0:
                    delay = min(self.base_delay * 2 ** min(over, 40), limits.max_delay)
                    count.until = max(count.until, now + delay)
                self._counts[key] = count
                self._counts.move_to_end(key)
            while len(self._counts) > self.max_keys:
                self._counts.popitem(last=False)

    def succeeded(self, username: str, address: str) -> None:
        """The right password: the account's own counts start again (the address's stay)."""
        keys = self._keys(username, address)
        with self._lock:
            self._counts.pop(keys["pair"], None)
            self._counts.pop(keys["account"], None)
