"""B9: the API under gunicorn (workers = 2 x cores + 1) against a trivial Django JSON view in the same run.

Client threads with keep-alive connections send, for a fixed time each: deposits (`POST .../deposits`),
cached reads (`GET /api/accounts/{id}`) and `GET /healthz` (a Django view returning a constant JSON body,
through the same middleware). The figures are requests per second; the ratios are against /healthz.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command

from bench import ledger
from projections.jobs import catch_up_everything

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"


@dataclass(frozen=True)
class Throughput:
    deposits: float
    reads: float
    trivial: float


class Server:
    """gunicorn serving the app on a free port, stopped on exit."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        workers = str(2 * (os.cpu_count() or 1) + 1)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", workers, "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)


def prepare(clients: int) -> tuple[str, list[uuid.UUID]]:
    """Demo users with a known password, a teller's token's owner, and an account per client."""
    call_command("demo_data", password=PASSWORD, stdout=io.StringIO())
    return "teller", [ledger.open_for_commands() for _ in range(clients)]


def measure(server: Server, accounts: list[uuid.UUID], seconds: float) -> Throughput:
    token = _token(server.port)
    deposits = _run(server.port, token, seconds, [("POST", f"/api/accounts/{a}/deposits") for a in accounts])
    catch_up_everything()  # no worker runs here: bring the read models to the head before reading them
    reads = _run(server.port, token, seconds, [("GET", f"/api/accounts/{a}") for a in accounts])
    trivial = _run(server.port, token, seconds, [("GET", "/healthz") for _ in accounts])
    return Throughput(deposits, reads, trivial)


def _token(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": "teller", "password": PASSWORD})
    conn.request("POST", "/api/token", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    return str(json.loads(response.read())["access"])


def _run(port: int, token: str, seconds: float, requests: list[tuple[str, str]]) -> float:
    """Requests per second, one client thread per (method, path), each on its own keep-alive connection."""
    counts = [0] * len(requests)
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(n: int) -> None:
        method, path = requests[n]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"amount": "1.00"}) if method == "POST" else None
        while time.monotonic() < stop:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status}")
            counts[n] += 1
        conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)
