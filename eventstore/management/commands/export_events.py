"""manage.py export_events [--output FILE] [--after-position P]: the log as JSON lines, in position order."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from eventstore import exchange, personal
from eventstore.management.progress import ProgressReporter


class Command(BaseCommand):
    help = (
        "Write every event (after --after-position) as one JSON object per line, in position order, with every"
        " stored field. Constant memory; a progress bar on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="the file to write (default: standard output)")
        parser.add_argument("--after-position", type=int, default=0, metavar="P")
        parser.add_argument(
            "--keys",
            type=Path,
            metavar="FILE",
            help="also write the personal-data keys here (without them an import reads holder details as erased)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        after = options["after_position"]
        reporter = ProgressReporter(sys.stderr, "export", exchange.count_after(after), tty=sys.stderr.isatty())
        if options["output"]:
            with options["output"].open("w", encoding="utf-8") as out:
                count = exchange.export(out, after=after, progress=reporter)
        else:
            count = exchange.export(self.stdout, after=after, progress=reporter)  # type: ignore[arg-type]
        reporter.done = count
        reporter.finish()
        if options["keys"]:
            with options["keys"].open("w", encoding="utf-8") as out:
                keys = personal.export_keys(out)
            options["keys"].chmod(0o600)
            self.stderr.write(f"{keys} key(s) written to {options['keys']}: keep them apart from the export")
