"""Personal data in events and snapshots, sealed with a key per data subject (crypto-shredding).

A class lists its personal fields in `personal_data: ClassVar[tuple[str, ...]]`. When the store writes such an
event or snapshot for a subject (a customer), each of those fields is stored as a sealed value: AES-256-GCM
under the subject's key, bound to the key and the field's name. Keys live only in `personal_keys`, never in
events, snapshots, read models, the cache or logs. `forget(subject)` destroys the subject's keys: from then on
every sealed value of that subject reads as ERASED, while the event itself, its hash chain and every snapshot
digest stay intact (they are computed over the sealed form).

Contract: `seal` creates the subject's key on first use, inside the caller's transaction. `unseal` never
raises for a destroyed, missing or wrong key: that value is ERASED. Values that are not sealed pass through.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any, TextIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection

ERASED = "erased"
_MARK = "sealed"  # a sealed value is {"sealed": 1, "key": <key id>, "data": <base64 nonce + ciphertext>}
MARKER = f'"{_MARK}"'  # in the JSON text of any document that holds a sealed value


def personal_fields(cls: type) -> tuple[str, ...]:
    return tuple(getattr(cls, "personal_data", ()))


def seal(data: Mapping[str, Any], fields: tuple[str, ...], subject: str) -> dict[str, Any]:
    """`data` (a dumped event or state) with each of `fields` that holds text sealed under `subject`'s key."""
    sealed = dict(data)
    # ERASED is no one's data: an erased holder's later snapshots need no key (and create none).
    plain = [field for field in fields if isinstance(sealed.get(field), str) and sealed[field] != ERASED]
    if not plain:
        return sealed
    key_id, key = _active_key(subject)
    for field in plain:
        nonce = os.urandom(12)
        text = AESGCM(key).encrypt(nonce, sealed[field].encode(), _bound(key_id, field))
        sealed[field] = {_MARK: 1, "key": key_id, "data": base64.b64encode(nonce + text).decode()}
    return sealed


def unseal(data: Mapping[str, Any], keys: Mapping[int, bytes | None] | None = None) -> dict[str, Any]:
    """`data` with every sealed value opened, or ERASED where its key is gone. `keys` are keys the caller
    already read in its transaction ({key id: key, None when destroyed}); any other is looked up."""
    sealed = [field for field, value in data.items() if is_sealed(value)]
    if not sealed:  # most events: no copy, no key lookup
        return data if isinstance(data, dict) else dict(data)
    opened = dict(data)
    keys = dict(keys or {})
    for field in sealed:
        value = data[field]
        key_id = value["key"]
        if key_id not in keys:
            keys[key_id] = _key(key_id)
        opened[field] = _open(keys[key_id], key_id, field, value["data"])
    return opened


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and value.get(_MARK) == 1


def forget(subject: str) -> int:
    """Destroy every key of `subject` (inside the caller's transaction); how many there were. Idempotent."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE personal_keys SET key = NULL, erased_at = now() WHERE subject = %s AND key IS NOT NULL", [subject]
        )
        return int(cursor.rowcount)


def _open(key: bytes | None, key_id: int, field: str, data: str) -> str:
    if key is None:
        return ERASED
    raw = base64.b64decode(data)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], _bound(key_id, field)).decode()
    except InvalidTag:  # not this key's value (or altered): unreadable, as if erased
        return ERASED


def _bound(key_id: int, field: str) -> bytes:
    return f"{key_id}:{field}".encode()


def _active_key(subject: str) -> tuple[int, bytes]:
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute("SELECT id, key FROM personal_keys WHERE subject = %s AND key IS NOT NULL", [subject])
            if row := cursor.fetchone():
                return int(row[0]), bytes(row[1])
            # A concurrent first use inserts the same subject: the unique index keeps one, the other reads it.
            cursor.execute(
                "INSERT INTO personal_keys (subject, key, created_at) VALUES (%s, %s, now())"
                " ON CONFLICT (subject) WHERE key IS NOT NULL DO NOTHING",
                [subject, AESGCM.generate_key(bit_length=256)],
            )
    raise RuntimeError(f"no key for {subject!r} could be created")  # pragma: no cover


def _key(key_id: int) -> bytes | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM personal_keys WHERE id = %s", [key_id])
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def export_keys(out: TextIO) -> int:
    """Write every key row (destroyed ones without their key) as JSON lines; returns how many. The file can
    open every sealed value of the log: keep it apart from the export, and no longer than needed, since a
    later erasure cannot reach a copy of a key."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, subject, key, created_at, erased_at FROM personal_keys ORDER BY id")
        rows = cursor.fetchall()
    for key_id, subject, key, created_at, erased_at in rows:
        record = {
            "id": key_id,
            "subject": subject,
            "key": base64.b64encode(bytes(key)).decode() if key is not None else None,
            "created_at": created_at.isoformat(),
            "erased_at": erased_at.isoformat() if erased_at else None,
        }
        out.write(json.dumps(record) + "\n")
    return len(rows)


def import_keys(lines: TextIO) -> int:
    """Load a file written by export_keys into an empty key table, keeping each key's id (sealed values name
    it), inside the caller's transaction. Raises ValueError, naming the line, on a malformed record or when
    the table is not empty."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM personal_keys)")
        if cursor.fetchone()[0]:
            raise ValueError("the key table is not empty: import keys only into a new database")
        count = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = base64.b64decode(record["key"]) if record["key"] is not None else None
                row = [record["id"], record["subject"], key, record["created_at"], record["erased_at"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"keys line {number}: not a key record ({exc})") from None
            cursor.execute(
                "INSERT INTO personal_keys (id, subject, key, created_at, erased_at) OVERRIDING SYSTEM VALUE"
                " VALUES (%s, %s, %s, %s, %s)",
                row,
            )
            count += 1
        cursor.execute(  # new keys are numbered after the imported ones
            "SELECT setval(pg_get_serial_sequence('personal_keys', 'id'),"
            " greatest(1, (SELECT max(id) FROM personal_keys)))"
        )
    return count
