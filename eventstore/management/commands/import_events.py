"""manage.py import_events FILE: load an export into an empty event store, checking every hash chain."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore import exchange
from eventstore.management.progress import ProgressReporter


class Command(BaseCommand):
    help = (
        "Import a file written by export_events into an empty store: positions, versions, payloads, metadata,"
        " recorded_at and hashes are kept. The whole file is checked first (order, versions, hash chains); exit 1"
        " naming the first bad line, or when the store is not empty. Rebuild the read models afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--keys", type=Path, metavar="FILE", help="the keys export_events --keys wrote")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        for given in (path, options["keys"]):
            if given is not None and not given.is_file():
                raise CommandError(f"{given}: no such file", returncode=2)
        try:
            checked = exchange.check(path, ProgressReporter(sys.stderr, "check", 0, tty=sys.stderr.isatty()))
            reporter = ProgressReporter(sys.stderr, "import", checked.events, tty=sys.stderr.isatty())
            done = exchange.load(path, checked, reporter, keys=options["keys"])
        except exchange.ImportRefused as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from None
        reporter.done = done.events
        reporter.finish()
        self.stdout.write(
            f"imported {done.events:,} events of {done.streams:,} streams (last position {done.last_position});"
            " now run: manage.py rebuild_projections --all"
        )
