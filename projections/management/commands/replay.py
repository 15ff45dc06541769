"""manage.py replay: re-apply a range of the log to one projector, or show a stream's history with the state
after each event (the temporal view for operators)."""

from __future__ import annotations

import getpass
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commands.domain import accounts, money
from eventstore import store
from eventstore.management.progress import ProgressReporter
from projections import registry, replay, status
from projections.operations import OperationError


class Command(BaseCommand):
    help = (
        "replay --projection NAME --from-position P [--to-position Q]: re-apply a range (idempotent). "
        "replay --stream ID [--version N | --until TIME]: print each event and the account state after it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Our --version (a stream version; docs/conventions.md) replaces Django's --version. Optional arguments
        # are added through parser._optionals, which copied the handler when the parser was made.
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--projection", metavar="NAME")
        what.add_argument("--stream", metavar="ID", help="an account id or a stream name (account-<id>)")
        parser.add_argument("--from-position", type=int)
        parser.add_argument("--to-position", type=int)
        upto = parser.add_mutually_exclusive_group()
        upto.add_argument("--version", type=int, help="stop after this version")
        upto.add_argument("--until", help="stop at this moment (ISO 8601)")
        parser.add_argument("--force", action="store_true", help="replay even if it skips unapplied events")
        parser.add_argument("--dry-run", action="store_true", help="say what would be replayed, change nothing")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--user", default=getpass.getuser(), help="who is acting (for the operator log)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["projection"]:
            self._replay(options)
        else:
            self._stream(options)

    def _replay(self, options: dict[str, Any]) -> None:
        if options["from_position"] is None:
            raise CommandError("--projection needs --from-position", returncode=2)
        try:
            projector = registry.get(options["projection"])
        except KeyError as exc:
            raise CommandError(str(exc.args[0]), returncode=2) from None
        first = options["from_position"]
        # By default up to what the projector has applied: what lies beyond is the runner's to apply, in order.
        last = options["to_position"] if options["to_position"] is not None else status.checkpoint(projector.name)
        intended = replay.plan(projector, first=first, last=last)
        if options["dry_run"]:
            refused = " (refused without --force)" if intended.skipped and not options["force"] else ""
            self.stdout.write(f"would replay {intended.describe()}{refused}")
            return
        reporter = ProgressReporter(sys.stderr, f"replay {projector.name}", intended.events, tty=sys.stderr.isatty())
        try:
            count = replay.replay(
                projector, first=first, last=last, user=options["user"], force=options["force"], progress=reporter
            )
        except OperationError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            result = {"projection": projector.name, "from": first, "to": last, "events": count}
            self.stdout.write(json.dumps(result | {"skipped": intended.skipped}))
        else:
            skipped = f"; skipped {intended.skipped:,} unapplied events before it" if intended.skipped else ""
            self.stdout.write(f"replayed {count:,} events (positions {first}..{last}) into {projector.name}{skipped}")

    def _stream(self, options: dict[str, Any]) -> None:
        stream = _stream_name(options["stream"])
        until = _moment(options["until"]) if options["until"] else None
        history = store.load(stream, until_version=options["version"], until_time=until)
        if not history.events:
            raise CommandError(f"{stream} has no events up to that point")
        state, rows = accounts.Account(), []
        for recorded in history.events:
            state = accounts.evolve(state, cast(accounts.AccountEvent, recorded.event))
            rows.append((recorded, state))
        if options["json"]:
            payload = [{"event": r.as_json(), "state": asdict(s)} for r, s in rows]
            self.stdout.write(json.dumps(payload, indent=2, default=str))
            return
        self.stdout.write(
            f"{'VER':>4} {'POSITION':>9} {'RECORDED AT':<26} {'TYPE':<22} {'USER':<10} {'STATUS':<7} BALANCE"
        )
        for recorded, after in rows:
            balance = money.format_amount(after.balance, after.currency) if after.currency else "-"
            self.stdout.write(
                f"{recorded.version:>4} {recorded.position:>9} {recorded.recorded_at.isoformat()[:26]:<26}"
                f" {recorded.type:<22} {str(recorded.metadata.get('user') or '-'):<10} {after.status:<7} {balance}"
            )


def _stream_name(value: str) -> str:
    try:
        return accounts.account_stream(UUID(value))
    except ValueError:
        return value


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--until {text!r} is not an ISO 8601 date-time", returncode=2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
