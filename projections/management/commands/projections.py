"""manage.py projections retry NAME | skip NAME --position P: resume a failed projector (logged)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections import jobs, operations, registry


class Command(BaseCommand):
    help = "Resume a failed projector: retry the failed event (after a fix), or skip it for good."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        retry = actions.add_parser("retry", help="try the failed event again")
        retry.add_argument("name")
        skip = actions.add_parser("skip", help="skip the failed event at --position (an explicit decision)")
        skip.add_argument("name")
        skip.add_argument("--position", type=int, required=True)
        for sub in (retry, skip):
            sub.add_argument("--user", default=getpass.getuser(), help="who is acting (for the operator log)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            projector = registry.get(options["name"])
        except KeyError as exc:
            raise CommandError(str(exc.args[0]), returncode=2) from None
        try:
            if options["action"] == "retry":
                operations.retry(projector, user=options["user"])
                self.stdout.write(f"{projector.name}: failure cleared; catching up")
            else:
                operations.skip(projector, position=options["position"], user=options["user"])
                self.stdout.write(f"{projector.name}: skipped the event at position {options['position']}; catching up")
        except operations.OperationError as exc:
            raise CommandError(str(exc)) from None
        jobs.wake(projector.name)
