"""Start and stop the real servers of the fetch tests, all on 127.0.0.1.

* PostgreSQL 15 + PostGIS (Debian) with the pgstac schema (the SQL that the pypgstac wheel
  ships), one database per catalogue; run as the ``postgres`` user when we are root
  (PostgreSQL refuses root), from its own temporary data folder.
* stac-fastapi-pgstac (the STAC API implementation behind the Planetary Computer) under
  uvicorn, one process per database.
* nginx (Debian) serving the COGs with HTTP range requests, logging the bytes it sends.
* a small misbehaving HTTP server (down / slow / 500 / 429 / flaky) for the retry tests.

Every process is started here and stopped by :meth:`Servers.stop` (called from the
fixture's finaliser, also when a test fails).
"""

from __future__ import annotations

import http.server
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_tools() -> list[str]:
    """What is not installed (the Makefile's test-fetch-deps installs it)."""
    missing = []
    if not (PG_BIN / "initdb").exists():
        missing.append("postgresql-15")
    if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
        missing.append("postgresql-15-postgis-3")
    if not Path(NGINX).exists():
        missing.append("nginx-light")
    for module in ("stac_fastapi.pgstac", "pypgstac", "uvicorn", "pystac_client"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    return missing


def _wait(url: str, seconds: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}): {text}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            time.sleep(0.2)
        except Exception:
            time.sleep(0.2)
    text = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{url} did not come up in {seconds} s: {text}")


class Postgres:
    """A throw-away PostgreSQL cluster; its folder is its own (the postgres user must
    reach it, so not under pytest's private tmp folder), removed by :meth:`stop`."""

    def __init__(self):
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="ntmgis_pg_"))
        os.chmod(self.root, 0o755)
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self.user = "postgres"

    def _run(self, args, **kw):
        if self.as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ]
        )
        self._run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.root / "postgres.log"),
                "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off",
                "start",
            ]
        )

    def psql(self, db: str, *, sql: str | None = None, file: Path | None = None):
        args = [
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ]
        args += ["-c", sql] if sql is not None else ["-f", str(file)]
        return self._run(args)

    def load_pgstac(self, db: str, collections: list[dict], items: list[dict]):
        import pypgstac

        migrations = Path(pypgstac.__file__).parent / "migrations"
        version = getattr(pypgstac, "__version__", None)
        sql = migrations / f"pgstac.{version}.sql"
        if not sql.exists():
            sql = sorted(
                (p for p in migrations.glob("pgstac.*.sql") if "-" not in p.name[7:]),
                key=lambda p: [int(x) for x in p.name[7:-4].split(".") if x.isdigit()],
            )[-1]
        self.psql("postgres", sql=f"CREATE DATABASE {db}")
        self.psql(db, file=sql)
        load = self.root / f"{db}_load.sql"
        lines = ["SET search_path TO pgstac, public;"]
        for c in collections:
            lines.append(f"SELECT create_collection($ntm${json.dumps(c)}$ntm$::jsonb);")
        lines.append(f"SELECT create_items($ntm${json.dumps(items)}$ntm$::jsonb);")
        load.write_text("\n".join(lines), encoding="utf-8")
        os.chmod(load, 0o644)
        self.psql(db, file=load)

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            try:
                self._run(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
                )
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


class StacApi:
    """stac-fastapi-pgstac on one database."""

    def __init__(self, root: Path, pg: Postgres, db: str):
        self.root, self.pg, self.db = root, pg, db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = root / f"stac_api_{db}.log"

    def start(self):
        env = {
            **os.environ,
            "PGUSER": "postgres",
            "PGPASSWORD": "unused",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.pg.port),
            "PGDATABASE": self.db,
            "DB_MIN_CONN_SIZE": "1",
            "DB_MAX_CONN_SIZE": "4",
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "stac_fastapi.pgstac.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--workers",
                "1",
            ],
            env=env,
            cwd=self.root,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait(f"{self.url}/collections", 90, self.proc, self.log)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Nginx:
    """nginx serving ``docroot`` with range requests; access log with bytes sent."""

    def __init__(self, root: Path, docroot: Path):
        self.root, self.docroot = root, docroot
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = root / "access.log"
        self.proc = None

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.root / sub).mkdir(exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.root / "nginx.conf"
        conf.write_text(
            f"""{user}daemon off;
worker_processes 2;
pid {self.root}/nginx.pid;
error_log {self.root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    types {{ image/tiff tif; application/json json; image/jpeg jpg; }}
    log_format ntm '$request_method $uri $status $body_bytes_sent "$http_range"';
    access_log {self.access_log} ntm;
    client_body_temp_path {self.root}/body;
    proxy_temp_path {self.root}/proxy;
    fastcgi_temp_path {self.root}/fastcgi;
    uwsgi_temp_path {self.root}/uwsgi;
    scgi_temp_path {self.root}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.docroot};
        location / {{ }}
    }}
}}
""",
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "nginx.stderr").open("w"),
        )
        _wait(f"{self.url}/", 20, self.proc, self.root / "nginx.stderr")

    def log_size(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def bytes_sent(self, since: int = 0, prefix: str = "") -> tuple[int, int]:
        """(bytes sent, requests) logged after offset ``since`` for URIs under ``prefix``."""
        time.sleep(0.2)  # nginx writes its log line after the response
        total = count = 0
        with self.access_log.open("rb") as f:
            f.seek(since)
            for line in f.read().decode("utf-8", "replace").splitlines():
                parts = line.split(" ")
                if len(parts) >= 4 and parts[1].startswith(prefix):
                    total += int(parts[3])
                    count += 1
        return total, count

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class BadServer:
    """A misbehaving STAC endpoint: /500/, /429/ always fail, /slow/ answers late,
    /flaky/ fails twice with 503 and then proxies to ``upstream``."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                mode = self.path.strip("/").split("/", 1)[0]
                with outer.lock:
                    outer.hits[mode] = outer.hits.get(mode, 0) + 1
                    n = outer.hits[mode]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if mode == "500":
                    return self._send(500, b'{"code":"InternalError"}')
                if mode == "429":
                    return self._send(429, b'{"code":"TooManyRequests"}', {"Retry-After": "0"})
                if mode == "slow":
                    time.sleep(4)
                    return self._send(200, b"{}")
                if mode == "flaky" and n <= 2:
                    return self._send(503, b'{"code":"Unavailable"}')
                rest = self.path.split("/", 2)[2] if self.path.count("/") >= 2 else ""
                req = urllib.request.Request(
                    f"{outer.upstream}/{rest}",
                    data=body,
                    method=self.command,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                )
                with urllib.request.urlopen(req, timeout=30) as r:
                    data = r.read()
                # keep the client on this server: rewrite the upstream's own links
                data = data.replace(outer.upstream.encode(), f"{outer.url}/{mode}".encode())
                return self._send(200, data)

            def _send(self, status, body, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_GET = _handle
            do_POST = _handle

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up (timeout tests) is expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
