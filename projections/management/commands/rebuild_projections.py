"""manage.py rebuild_projections: rebuild read models without downtime, or list the projectors."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from eventstore.management.progress import ProgressReporter
from projections import operations, registry, status


class Command(BaseCommand):
    help = (
        "Rebuild projectors into shadow tables from position 0 while the live tables keep serving, then swap them "
        "in. Exit 1 on failure (the live tables are left untouched)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="projectors to rebuild")
        parser.add_argument("--all", action="store_true", help="rebuild every projector")
        parser.add_argument("--list", action="store_true", help="show each projector's status, checkpoint and lag")
        parser.add_argument("--dry-run", action="store_true", help="say what would be rebuilt, change nothing")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=operations.REBUILD_BATCH_SIZE,
            help=f"events per batch ({operations.REBUILD_BATCH_SIZE:,})",
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--user", default=getpass.getuser(), help="who is acting (for the operator log)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            return self._list(options["json"])
        # --all means every read model; an outbox is not one (operations.rebuild says why when it is named).
        names = [p.name for p in registry.PROJECTORS.values() if not p.outbox] if options["all"] else options["names"]
        if not names:
            raise CommandError("name at least one projector, or --all (--list shows them)", returncode=2)
        try:
            projectors = [registry.get(name) for name in names]
        except KeyError as exc:
            raise CommandError(str(exc.args[0]), returncode=2) from None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=2)
        total = _event_count()
        if options["dry_run"]:
            for projector in projectors:
                self.stdout.write(
                    f"would rebuild {projector.name} ({', '.join(projector.tables)}) from {total:,} events"
                )
            return None
        # One pass over the log for all of them: each batch is read and decoded once (operations.rebuild_many).
        label = projectors[0].name if len(projectors) == 1 else f"{len(projectors)} projectors"
        reporter = ProgressReporter(sys.stderr, label, total, tty=sys.stderr.isatty())
        try:
            outcomes = operations.rebuild_many(
                projectors, user=options["user"], batch_size=options["batch_size"], progress=reporter
            )
        except Exception as exc:  # not one projector's fault (the database went away): nothing half-swapped
            raise CommandError(
                f"rebuild stopped: {exc}; the shadow tables are dropped and the live tables untouched"
                " (projectors swapped in before the fault stay rebuilt)",
                returncode=1,
            ) from exc
        reporter.finish()
        rate = reporter.rate()
        results, failed = [], False
        for name, outcome in outcomes.items():
            if isinstance(outcome, Exception):
                failed = True
                self.stderr.write(f"{name}: FAILED, live tables untouched: {outcome}")
                results.append({"name": name, "ok": False, "error": str(outcome)})
                continue
            results.append({"name": name, "ok": True, "events": outcome.events, "position": outcome.checkpoint})
            if not options["json"]:
                self.stdout.write(
                    f"{name}: rebuilt from {outcome.events:,} events ({rate:,.0f} events/s),"
                    f" now at position {outcome.checkpoint}"
                )
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
        else:
            ok = sum(1 for r in results if r["ok"])
            self.stdout.write(f"rebuilt {ok} of {len(results)} projectors")
        if failed:
            sys.exit(1)
        return None

    def _list(self, as_json: bool) -> None:
        entries = status.all_statuses()
        if as_json:
            self.stdout.write(json.dumps([entry.as_json() for entry in entries], indent=2))
            return
        header = f"{'NAME':<20} {'STATUS':<11} {'CHECKPOINT':>10} {'HEAD':>8} {'LAG':>6} {'LAG s':>7}  LAST ERROR"
        self.stdout.write(header)
        for e in entries:
            error = f"at {e.failed_position}: {e.last_error}" if e.failed_position is not None else e.last_error
            self.stdout.write(
                f"{e.name:<20} {e.status:<11} {e.checkpoint:>10} {e.head_position:>8} {e.lag_events:>6}"
                f" {e.lag_seconds:>7.1f}  {error[:80]}"
            )


def _event_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events")
        return int(cursor.fetchone()[0])
