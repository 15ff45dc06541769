"""manage.py verify_projections: compare the live read models with a rebuild into shadow tables, and with the
fold of each account's stream read by id (projections.oracle)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.management.progress import ProgressReporter
from projections import operations, registry


class Command(BaseCommand):
    help = (
        "Compare each projector's live tables with a rebuild into shadow tables and with the fold of every account"
        " stream read by id; exit 1 on any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="projectors to verify (default: all)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            projectors = [registry.get(name) for name in options["names"] or registry.PROJECTORS]
        except KeyError as exc:
            raise CommandError(str(exc.args[0]), returncode=2) from None
        report, ok = [], True
        for projector in projectors:
            reporter = ProgressReporter(sys.stderr, f"verify {projector.name}", 0, tty=sys.stderr.isatty())
            try:
                result = operations.verify(projector, progress=reporter if sys.stderr.isatty() else None)
            except operations.Busy as exc:
                ok = False
                report.append({"name": projector.name, "ok": False, "error": str(exc)})
                self.stderr.write(str(exc))
                continue
            ok = ok and result.ok
            report.append(
                {
                    "name": projector.name,
                    "ok": result.ok,
                    "checkpoint": result.checkpoint,
                    "rebuild_error": result.rebuild_error or None,
                    "differences": result.difference_count,
                    "rebuild_differences": result.rebuild.count,
                    "fold_differences": result.fold.count,
                    "streams_folded": result.fold.streams,
                    "rows": [asdict(d) for d in result.differences],
                }
            )
            if not options["json"]:
                self._print(result)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, default=str))
        if not ok:
            sys.exit(1)

    def _print(self, result: operations.VerifyResult) -> None:
        verdict = "OK" if result.ok else f"{result.difference_count} DIFFERING ROWS"
        rebuilt = f"could not rebuild ({result.rebuild_error})" if result.rebuild_error else result.rebuild.count
        self.stdout.write(
            f"{result.name}: {verdict} (vs a rebuild at position {result.checkpoint}: {rebuilt};"
            f" vs the fold of {result.fold.streams} streams at position {result.fold.checkpoint}: {result.fold.count})"
        )
        for d in result.differences:
            against = "rebuilt" if d.check == "rebuild" else "expected"
            if d.live is None:
                self.stdout.write(f"  {d.table} {d.key}: missing; {against} {d.expected}")
            elif d.expected is None:
                self.stdout.write(f"  {d.table} {d.key}: should not exist; live {d.live}")
            else:
                columns = d.changed_columns()
                shown = ", ".join(f"{c} live {d.live[c]!r} {against} {d.expected[c]!r}" for c in columns)
                self.stdout.write(f"  {d.table} {d.key}: {shown}")
        if result.difference_count > len(result.differences):
            self.stdout.write(f"  ... and {result.difference_count - len(result.differences)} more")
