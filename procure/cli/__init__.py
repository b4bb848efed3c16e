"""Command line: the typer app (:mod:`procure.cli.app`) and its terminal rendering; no logic a Python user
would need lives here (that is :mod:`procure.api` and the stage packages)."""

from procure.cli.app import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_NO_PLAN, EXIT_OK, app, main

__all__ = ["app", "main", "EXIT_OK", "EXIT_NO_PLAN", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED"]
