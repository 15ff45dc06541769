"""A JSON client for the API tests, the demo users, and small helpers that drive the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client

PASSWORD = "correct-horse-42"


def event_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events")
        return cursor.fetchone()[0]


@dataclass
class Api:
    """A JSON client holding one user's Bearer token."""

    client: Client
    token: str | None

    def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None, **headers: str):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path,
            data=data,
            content_type=headers.pop("content_type", "application/json"),
            **self._headers(headers),
        )

    def get(self, path: str, query: dict[str, str] | None = None, **headers: str):
        return self.client.get(path, query or {}, **self._headers(headers))

    def _headers(self, extra: dict[str, str]) -> Any:
        headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in extra.items()}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return headers


def login(username: str) -> Api:
    client = Client()
    response = client.post(
        "/api/token", data={"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return Api(client, response.json()["access"])


def open_account(api: Api, owner: str = "alice", **fields: Any) -> str:
    body = {"holder_name": "Alice Liddell", "email": "alice@example.com", "owner": owner, **fields}
    response = api.post("/api/accounts", body)
    assert response.status_code == 201, response.content
    return response.json()["account_id"]


def deposit(api: Api, account_id: str, amount: str) -> dict:
    response = api.post(f"/api/accounts/{account_id}/deposits", {"amount": amount})
    assert response.status_code == 201, response.content
    return response.json()


class Http:
    """A JSON client over real HTTP (a live server), holding one user's Bearer token."""

    def __init__(self, base: str, username: str, password: str = PASSWORD) -> None:
        self.base, self.password = base, password
        status, body = self.call("POST", "/api/token", {"username": username, "password": password}, auth=False)
        assert status == 200, body
        self.token = body["access"]

    def call(
        self, method: str, path: str, body: object = None, auth: bool = True, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        return self.exchange(method, path, body, auth, headers)[:2]

    def exchange(
        self, method: str, path: str, body: object = None, auth: bool = True, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, response headers)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read()), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), dict(error.headers)
