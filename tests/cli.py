"""Run a management command as `manage.py` would, for the tests: its exit code, standard output and errors."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.core.management.base import CommandError


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    except CommandError as error:  # manage.py prints it and exits with its return code
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()
