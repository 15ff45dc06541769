#!/usr/bin/env python
"""Django's command-line utility for Ledger."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.env import SettingError

    try:
        execute_from_command_line(sys.argv)
    except SettingError as exc:
        # One clear line instead of a traceback: the operator only needs to fix a variable.
        sys.exit(f"ledger: configuration error: {exc}")


if __name__ == "__main__":
    main()
