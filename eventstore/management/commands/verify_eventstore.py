"""manage.py verify_eventstore: re-check versions, read order, decoding, hash chains and snapshots."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore import heads
from eventstore.verification import verify


class Command(BaseCommand):
    help = (
        "Check every stored event and snapshot: contiguous versions, positions in each stream's order, decoding,"
        " hash chains, and snapshots against the fold of their streams."
        " Exit 1 on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--write-heads", type=Path, metavar="FILE", help="save every stream's head and a digest")
        parser.add_argument(
            "--against", type=Path, metavar="FILE", help="report streams rewritten, truncated or deleted since FILE"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        progress = None
        if not options["json"] and sys.stderr.isatty():
            progress = lambda n: self.stderr.write(f"\r  checked {n:,} events", ending="")  # noqa: E731
        against = None
        if options["against"]:
            try:
                against, _ = heads.read(options["against"])
            except heads.HeadsFileError as exc:
                raise CommandError(str(exc)) from None
        report = verify(progress, keep_heads=bool(options["write_heads"]), against=against)
        saved_digest = heads.write(options["write_heads"], report.heads) if options["write_heads"] else None
        if options["json"]:
            payload = {
                "ok": report.ok,
                "events": report.events,
                "streams": report.streams,
                "snapshots": report.snapshots,
                "fingerprint": report.fingerprint,
                "heads_digest": saved_digest,
                "problems": [asdict(problem) for problem in report.problems],
            }
            self.stdout.write(json.dumps(payload, indent=2))
        else:
            for problem in report.problems:
                where = f"{problem.stream_id} version {problem.version}" if problem.stream_id else "store"
                self.stdout.write(f"PROBLEM {where} (position {problem.position}): {problem.problem}")
            self.stdout.write(
                f"events: {report.events}  streams: {report.streams}  snapshots: {report.snapshots}"
                f"  problems: {len(report.problems)}\n"
                f"fingerprint: {report.fingerprint}"
            )
            if saved_digest:
                self.stdout.write(
                    f"heads of {len(report.heads)} streams saved to {options['write_heads']}: digest {saved_digest}"
                )
        if not report.ok:
            sys.exit(1)
