"""The one text neutraliser: foreign text is shown, never obeyed.

Everything a service sends (bodies, headers, status text, component names) and
everything a manifest says (names, tags, URLs) may be hostile. Before any
renderer sees it, `neutralise` turns every character that could drive a
terminal or disguise text into a visible escape:

- C0 controls (ESC among them, so no ANSI / OSC sequence survives), DEL and the
  C1 controls U+0080–U+009F become ``\\x1b``-style escapes (``\\n``, ``\\r``, ``\\t``
  by name); a newline and a tab are kept only where a format shows several lines
  (`neutralise_block`);
- bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), their
  marks, zero-width characters, U+FEFF, the line and paragraph separators and
  every other character Python does not call printable become ``\\u202e``-style
  escapes: a reason cannot reorder itself (``exe.gnp`` shown as ``png.exe``) or
  hide a character;
- a lone surrogate (U+D800–U+DFFF, which a JSON string can escape as ``\\ud800``)
  becomes ``\\ud800``: no codec can encode it, so printing it would crash every view;
- a backslash stays a backslash: the escapes are for reading, not for decoding.

`CommandLineGuard` is the other half for CI logs: GitHub Actions runs any output
line that starts with ``::`` (after leading whitespace) as a workflow command, so a
service padding its text until a wrapped line starts with ``::error`` could forge
an annotation, mask a value or stop command processing. The runner also still
reads the legacy form ``##[command]`` anywhere in a line, so that is broken
(``##›[``) wherever it appears. svccheck's own annotations are written past the
guard (`raw`).
"""

from __future__ import annotations

import re
import sys
from typing import IO


def _escape(char: str) -> str:
    return repr(char)[1:-1]  # `\\x1b`, `\\n`, `\\u202e`, `\\U000e0001`: Python's own escapes


def neutralise(text: str) -> str:
    """One line of inert text: every character Python does not call printable shown as its escape.

    That is every control (C0 with the newline, DEL, C1), every format character (bidi
    embeddings, overrides, isolates and marks, zero-width characters, U+FEFF), the line and
    paragraph separators, unassigned and private-use code points, and spaces other than
    U+0020.
    """
    return _escaped(text, "")


def neutralise_block(text: str) -> str:
    """Several lines of inert text (a body): newlines and tabs kept, everything else as `neutralise`."""
    return _escaped(text, "\n\t")


def _escaped(text: str, kept: str) -> str:
    if text.isprintable():  # the common case costs one C-level scan
        return text
    return "".join(char if char.isprintable() or char in kept else _escape(char) for char in text)


# What GitHub's runner takes for a workflow command: `::` first on a line, leading whitespace
# trimmed (actions/runner ActionCommand.TryParseV2 calls .NET's String.TrimStart(), which trims
# every Char.IsWhiteSpace: a no-break space or U+3000 as much as a space).
_TRIMMED = (
    "\t\v\f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
# Patterns as text, compiled by `re` on first use (its cache): most runs write nothing that
# needs them, and compiling both at import cost ~0.5 ms of every command's start-up.
_COMMAND_START = f"(?m)^([{_TRIMMED}]*)::"
# The runner reads lines as .NET's ReadLine does: ended by \n, \r or \r\n, nothing else.
_RUNNER_LINE = r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+"
# ActionCommand.TryParse, the legacy form, looks for "##[" anywhere in a line (IndexOf).
LEGACY_COMMAND = "##["
# A visible, non-whitespace mark the runner does not trim: the line no longer starts with `::`.
COMMAND_BREAK = "›"


def break_commands(text: str) -> str:
    """A mark in front of the colons of every line that would start with ``::``."""
    if "::" not in text:
        return text
    return re.sub(_COMMAND_START, rf"\g<1>{COMMAND_BREAK}::", text)


class CommandLineGuard:
    """A text stream that never lets a line start with ``::``; wraps stdout and stderr in a CI log.

    Lines are passed through as soon as their start is known to be safe; only a
    line start made of whitespace or a single ``:`` waits for the next write, since
    the runner reads whole lines. `raw` is the stream underneath, for svccheck's
    own workflow commands.
    """

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw
        self._pending = ""  # the start of a line whose fate is not known yet
        self._decided = False  # the current line's start has been written already
        self._held = ""  # a trailing "#" or "##" that the next write could make "##["

    @property
    def encoding(self) -> str:
        return getattr(self.raw, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.raw, "errors", None)

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes for a binary stream with write(b"")
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        written = len(text)
        if self._passes_as_it_is(text):
            self.raw.write(text)
            if text:
                self._decided = not text.endswith(("\n", "\r"))
            return written
        text, self._held = self._held + text, ""
        out: list[str] = []
        for piece in re.findall(_RUNNER_LINE, text):
            ends = piece.endswith(("\n", "\r"))
            if self._decided:
                out.append(piece)
            else:
                line = self._pending + piece
                self._pending = ""
                head = line.lstrip(_TRIMMED)
                if not ends and head in ("", ":"):
                    self._pending = line  # cannot tell yet
                    continue
                out.append(break_commands(line))
            self._decided = not ends
        chunk = "".join(out).replace(LEGACY_COMMAND, f"##{COMMAND_BREAK}[")
        hashes = min(2, len(chunk) - len(chunk.rstrip("#")))
        if hashes:
            chunk, self._held = chunk[:-hashes], chunk[-hashes:]
        if chunk:
            self.raw.write(chunk)
        return written

    def _passes_as_it_is(self, text: str) -> bool:
        """Nothing held, no `::` or `##[` anywhere, no line start left undecided: most writes.

        Two C-level searches instead of a Python loop over every line (a 1,000-check JSON
        report is 7,000 lines: 4 ms through the loop).
        """
        if self._pending or self._held or "::" in text or LEGACY_COMMAND in text or text.endswith("#"):
            return False
        if text.endswith(("\n", "\r")):
            return True
        last_break = max(text.rfind("\n"), text.rfind("\r"))
        if last_break < 0 and self._decided:
            return True  # the rest of a line whose start is already written
        return text[last_break + 1 :].lstrip(_TRIMMED) not in ("", ":")

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def finish(self) -> None:
        """At exit: what was held back is written (no later write can complete it)."""
        if self._pending or self._held:
            self.raw.write(self._held + self._pending)
            self._pending = self._held = ""
        self.raw.flush()


def raw_stream(stream: IO[str]) -> IO[str]:
    """The stream under a `CommandLineGuard` (any other stream as it is), held text written first."""
    if isinstance(stream, CommandLineGuard):
        stream.finish()
        return stream.raw
    return stream


__all__ = [
    "COMMAND_BREAK",
    "CommandLineGuard",
    "break_commands",
    "neutralise",
    "neutralise_block",
    "raw_stream",
]


def guard_ci_logs() -> None:
    """Where output is not a terminal (a CI log), no line may start with `::` (a workflow command)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not stream.isatty() and not isinstance(stream, CommandLineGuard):
            setattr(sys, name, CommandLineGuard(stream))
