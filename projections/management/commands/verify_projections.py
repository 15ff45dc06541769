"""manage.py verify_projections: rebuild into shadow tables and compare with the live read models."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections import operations, registry
from projections.progress import ProgressReporter


class Command(BaseCommand):
    help = "Rebuild each projector into shadow tables and diff them with the live tables; exit 1 on any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="projectors to verify (default: all)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            projectors = [registry.get(name) for name in options["names"] or registry.PROJECTORS]
        except KeyError as exc:
            raise CommandError(str(exc.args[0]), returncode=2) from None
        report, problems = [], 0
        for projector in projectors:
            reporter = ProgressReporter(sys.stderr, f"verify {projector.name}", 0, tty=sys.stderr.isatty())
            try:
                result = operations.verify(projector, progress=reporter if sys.stderr.isatty() else None)
            except operations.OperationError as exc:
                problems += 1
                report.append({"name": projector.name, "ok": False, "error": str(exc)})
                self.stderr.write(f"{projector.name}: could not rebuild for comparison: {exc}")
                continue
            problems += result.difference_count
            report.append(
                {
                    "name": projector.name,
                    "ok": result.difference_count == 0,
                    "checkpoint": result.checkpoint,
                    "differences": result.difference_count,
                    "rows": [{"table": d.table, "side": d.side, "row": d.row} for d in result.differences],
                }
            )
            if not options["json"]:
                self._print(result)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, default=str))
        if problems:
            sys.exit(1)

    def _print(self, result: operations.VerifyResult) -> None:
        verdict = "OK" if result.difference_count == 0 else f"{result.difference_count} DIFFERING ROWS"
        self.stdout.write(f"{result.name}: {verdict} (compared at position {result.checkpoint})")
        for difference in result.differences:
            self.stdout.write(f"  {difference.table} {difference.side}: {difference.row}")
        if result.difference_count > len(result.differences):
            self.stdout.write(f"  ... and {result.difference_count - len(result.differences)} more")
