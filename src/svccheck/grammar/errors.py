"""Manifest problems, each tied to a place in the file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from svccheck.errors import SvccheckError
from svccheck.neutral import neutralise


@dataclass(frozen=True, slots=True)
class ManifestIssue:
    """One problem with a manifest, at its line and column when it has one."""

    message: str
    line: int | None = None
    column: int | None = None

    def render(self, path: str) -> str:
        if self.line is None:
            return f"{path}: {self.message}"
        return f"{path}:{self.line}:{self.column or 1}: {self.message}"


class ManifestError(SvccheckError):
    """Raised with every problem found, so a user fixes them all in one go; exits 2 (`ExitCode.USAGE`)."""

    def __init__(
        self,
        path: str,
        issues: list[ManifestIssue],
        *,
        secrets: Iterable[str] = (),
        summary: str | None = None,
    ) -> None:
        self.path = path
        # the last line, when the trouble is not a problem in the file: no file at all, a mistake
        # on the command line (#15)
        self.summary = summary
        self.issues = sorted(issues, key=lambda i: (i.line or 0, i.column or 0))
        # A message may quote a value interpolated from a secret variable or a URL with a password.
        self._secrets = frozenset(secrets)
        super().__init__(self.render())

    def report(self) -> str:
        if self.summary is not None:
            return f"{self.render()}\nsvccheck: {self.summary}"
        count = len(self.issues)
        plural = "s" if count != 1 else ""
        return f"{self.render()}\nsvccheck: {count} problem{plural} in the manifest; nothing was probed"

    def render(self) -> str:
        from svccheck.redact import Redactor

        # a secret may be quoted escaped (a token with a control character in a URL)
        redactor = Redactor(self._secrets | {neutralise(secret) for secret in self._secrets})
        # each issue is one line, whatever characters the values it quotes hold
        # one line each, neutralised by the Redactor: a manifest value quoted in a message cannot
        # clear the screen or reorder the line it is shown on (#9)
        return "\n".join(redactor.text(issue.render(self.path)) for issue in self.issues)
