"""A real headless browser for the HTML report: the distribution's Chromium, driven by Playwright.

Playwright drives the system Chromium (`executable_path`); it never downloads
a browser of its own. Every request other than the page's own file is aborted
and recorded, so a page that tries to fetch anything fails its test; console
errors, uncaught exceptions and dialogs (an `alert` a hostile name smuggled in)
are recorded too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

INSTALL = "apt-get install -y --no-install-recommends chromium"


def chromium_path() -> str:
    """The system Chromium, or the test skips saying what to install."""
    path = os.environ.get("SVCCHECK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(f"the HTML report's browser test needs Chromium: {INSTALL}")
    return path


@dataclass
class Visit:
    """What happened while a page was open."""

    page: Page
    requests: list[str] = field(default_factory=list)  # every URL asked for besides the page itself
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str, str]]:
        """(verdict, service, check) of each check row, in the page's order."""
        found: list[tuple[str, str, str]] = self.page.eval_on_selector_all(
            "tr.check",
            "rows => rows.map(r => [r.dataset.verdict, r.cells[1].textContent, r.cells[2].textContent])",
        )
        return [(v, s, c) for v, s, c in found]


@contextmanager
def opened(path: Path) -> Iterator[Visit]:
    """`path` open in headless Chromium; the visit's record is complete once the block ends."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    url = path.resolve().as_uri()
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            visit = Visit(page)

            def route(route: Route) -> None:
                if route.request.url == url:
                    route.continue_()
                else:
                    route.abort()  # nothing leaves the machine, whatever the page asks for

            page.route("**/*", route)
            page.on("request", lambda r: visit.requests.append(r.url) if r.url != url else None)
            page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: visit.console_errors.append(str(e)))
            page.on("dialog", _dismissed(visit.dialogs))
            page.goto(url, wait_until="load")
            yield visit
        finally:
            browser.close()


def _dismissed(dialogs: list[str]) -> Callable[..., None]:
    def on_dialog(dialog: object) -> None:
        from playwright.sync_api import Dialog

        assert isinstance(dialog, Dialog)
        dialogs.append(dialog.message)
        dialog.dismiss()

    return on_dialog
