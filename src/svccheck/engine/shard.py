"""`serve --shard i/N`: which services one of N replicas probes, by a hash of the service's name.

The hash is Prometheus's own `hashmod` relabel action over the name (the last
8 bytes of its MD5, big-endian, modulo N), so a shard here and a `hashmod`
rule in a scrape config put a service on the same replica. It depends on the
name only: adding or removing a service never moves another one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from svccheck.model import Service


@dataclass(frozen=True)
class Shard:
    index: int  # 0 … count-1, as hashmod numbers them
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`i/N`, 0 <= i < N; a ValueError says what is wrong."""
        index_text, slash, count_text = text.partition("/")
        try:
            index, count = int(index_text), int(count_text)
        except ValueError:
            index = count = -1
        if not slash or count < 1 or not 0 <= index < count:
            raise ValueError(f"expected i/N with 0 <= i < N (e.g. 0/2 and 1/2), got {text!r}")
        return cls(index, count)

    def owns(self, name: str) -> bool:
        return hashmod(name, self.count) == self.index

    def select(self, services: Sequence[Service]) -> tuple[Service, ...]:
        return tuple(s for s in services if self.owns(s.name))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def hashmod(value: str, modulus: int) -> int:
    """Prometheus's `action: hashmod`: the last 8 bytes of MD5(value), big-endian, modulo `modulus`."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


__all__ = ["Shard", "hashmod"]
