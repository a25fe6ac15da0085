"""A bare status word: ``OK``, ``healthy``, ``pong``, ``DOWN``…"""

from __future__ import annotations

from typing import Final

from svccheck.judge.health.reading import (
    NOT_JSON,
    HealthBody,
    HealthFormat,
    HealthReading,
    HealthStatus,
    clean,
    status_word,
)

# A plain-text health body is one word; anything longer is prose or a page.
_MAX_PLAIN_TEXT: Final = 64
# Only a bare text body may say "pong"; as a JSON status it would be a guess.
_TEXT_ONLY_PASS: Final = frozenset({"pong"})


def read(body: HealthBody) -> HealthReading | None:
    if body.json is not NOT_JSON:
        return None
    return read_word(body.text, "plain-text")


def read_word(text: str, fmt: str) -> HealthReading | None:
    """One status word, as a text body or a JSON string (`"Healthy"`) says it."""
    if len(text) > _MAX_PLAIN_TEXT or "\n" in text or "\r" in text:
        return None
    word = text.rstrip(".!").strip()
    status: HealthStatus | None = "pass" if word.lower() in _TEXT_ONLY_PASS else status_word(word)
    if status is None:
        return None
    return HealthReading(status, clean(word), fmt, ())


FORMAT = HealthFormat("plain-text", "a status word", read)
