"""`python -m svccheck` and the `svccheck` console script."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        # The most common scripted call answers without loading the CLI framework.
        from svccheck._version import __version__

        print(f"svccheck {__version__}")
        return
    # svccheck uses no pydantic plugins; looking for them scans every installed distribution
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from svccheck.cli import run_app

    run_app()


if __name__ == "__main__":
    main()
