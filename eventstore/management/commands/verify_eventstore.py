"""manage.py verify_eventstore: re-check versions, read order, decoding, hash chains and snapshots."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from eventstore.verification import verify


class Command(BaseCommand):
    help = (
        "Check every stored event and snapshot: contiguous versions, positions in each stream's order, decoding,"
        " hash chains, and snapshots against the fold of their streams."
        " Exit 1 on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = None
        if not options["json"] and sys.stderr.isatty():
            progress = lambda n: self.stderr.write(f"\r  checked {n:,} events", ending="")  # noqa: E731
        report = verify(progress)
        if options["json"]:
            payload = {
                "ok": report.ok,
                "events": report.events,
                "streams": report.streams,
                "snapshots": report.snapshots,
                "fingerprint": report.fingerprint,
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
        if not report.ok:
            sys.exit(1)
