"""Who may talk to the agent at all: an allow-list of client networks, and slowing repeated failed keys.

The agent faces the internet. With ``allowed_clients`` set, an address outside every network is answered
403 before its key is read. An address whose last ``threshold`` or more keys were wrong waits before its
next answer, doubling per further failure up to ``max_delay`` seconds; a right key clears the record, and
records older than ``forget_after`` seconds are dropped.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_allowed(address: str | None, networks: Sequence[Network]) -> bool:
    """True when no allow-list is set or ``address`` is inside one of ``networks``."""
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


@dataclass
class _Failures:
    count: int
    last: float


class FailedKeyThrottle:
    """Per-address count of consecutive failed keys and the delay it earns."""

    def __init__(
        self,
        *,
        threshold: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        forget_after: float = 900.0,
        max_addresses: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = threshold
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._forget_after = forget_after
        self._max_addresses = max_addresses
        self._monotonic = monotonic
        self._failures: OrderedDict[str, _Failures] = OrderedDict()
        self._guard = threading.Lock()

    def delay(self, address: str) -> float:
        """Seconds to wait before answering ``address`` (0 unless it failed ``threshold`` times lately)."""
        with self._guard:
            record = self._failures.get(address)
            if record is None:
                return 0.0
            if self._monotonic() - record.last > self._forget_after:
                del self._failures[address]
                return 0.0
            excess = record.count - self._threshold
        return 0.0 if excess < 0 else min(self._max_delay, self._base_delay * 2.0**excess)

    def failed(self, address: str) -> None:
        with self._guard:
            record = self._failures.pop(address, None) or _Failures(0, 0.0)
            record.count += 1
            record.last = self._monotonic()
            self._failures[address] = record
            while len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        with self._guard:
            self._failures.pop(address, None)
