from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def stream_id() -> str:
    """A stream no other test touches: events are append-only, so tests share the table, never a stream."""
    return f"test-{uuid.uuid4()}"
