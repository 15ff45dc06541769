"""Saved chain heads: every stream's version and last hash at one moment, and one digest over them all.

`verify_eventstore --write-heads FILE` writes them; kept outside the database (another machine, a ticket, the
digest alone in a log), they let a later `verify_eventstore --against FILE` prove that no stream was rewritten,
truncated or deleted since: each stream must still hold an event at the saved version with the saved hash
(the hash chains every earlier event), whatever was appended after it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

Heads = dict[str, tuple[int, str]]  # stream_id -> (version, hash of the event at that version)


class HeadsFileError(ValueError):
    """The file is not a heads file, or its content does not match its own digest."""


def digest(heads: Heads) -> str:
    lines = "".join(f"{stream}:{version}:{hash_}\n" for stream, (version, hash_) in sorted(heads.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def write(path: Path, heads: Heads) -> str:
    """Write the heads and their digest; returns the digest (worth keeping somewhere else too)."""
    value = digest(heads)
    body = {
        "written_at": datetime.now(UTC).isoformat(),
        "streams": {stream: {"version": version, "hash": hash_} for stream, (version, hash_) in sorted(heads.items())},
        "digest": value,
    }
    path.write_text(json.dumps(body, indent=1) + "\n")
    return value


def read(path: Path) -> tuple[Heads, str]:
    """The heads in the file and its digest; raises HeadsFileError for a malformed or altered file."""
    try:
        body = json.loads(path.read_text())
        heads = {stream: (int(head["version"]), str(head["hash"])) for stream, head in body["streams"].items()}
        saved = str(body["digest"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HeadsFileError(f"{path} is not a heads file written by verify_eventstore --write-heads: {exc}") from None
    if digest(heads) != saved:
        raise HeadsFileError(f"{path} does not match its own digest: the file was altered")
    return heads, saved
