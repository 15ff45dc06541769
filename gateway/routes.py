"""The one ninja Router both sides register on: POST /api/accounts (commands) and GET /api/accounts
(queries) share a path, and ninja only merges methods of one path within one router."""

from __future__ import annotations

from ninja import Router

router = Router()
