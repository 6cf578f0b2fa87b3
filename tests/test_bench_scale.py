"""`make bench-scale` touches only the throwaway database it made (issue 9), and its yardstick."""

import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from bench import scale


def test_a_database_url_of_another_server_is_refused(tmp_path: Path) -> None:
    with pytest.raises(scale.Refused, match="DATABASE_URL"):
        scale.refuse_foreign_url(settings.DATABASE_URL, bench_dir=tmp_path)
    with pytest.raises(scale.Refused, match="DATABASE_URL"):
        scale.refuse_foreign_url("postgresql://app:secret@db.example.se/fbl", bench_dir=tmp_path)


def test_no_database_url_or_one_under_the_bench_directory_is_accepted(tmp_path: Path) -> None:
    scale.refuse_foreign_url(None, bench_dir=tmp_path)
    scale.refuse_foreign_url("", bench_dir=tmp_path)
    own = f"postgresql://postgres:@/bench_scale?host={tmp_path / 'pgdata'}"
    scale.refuse_foreign_url(own, bench_dir=tmp_path)


def test_the_script_stops_before_starting_anything_when_database_url_is_foreign(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.example.se/fbl")
    monkeypatch.setattr(scale, "BENCH_DIR", tmp_path / "bench-scale")
    monkeypatch.setattr(sys, "argv", ["scale.py"])
    with pytest.raises(SystemExit, match="Refused"):
        scale.main()
    assert not (tmp_path / "bench-scale").exists()


def _data_directory() -> Path:
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        return Path(cursor.fetchone()[0])


@pytest.mark.django_db
def test_a_database_with_tables_but_no_marker_is_refused() -> None:
    # The test database: the right server for the check, but the app's tables and no marker.
    with connection.cursor() as cursor, pytest.raises(scale.Refused, match="no bench_scale"):
        scale.check_ours(cursor, _data_directory())


@pytest.mark.django_db
def test_a_server_with_another_data_directory_is_refused(tmp_path: Path) -> None:
    with connection.cursor() as cursor, pytest.raises(scale.Refused, match="not in the bench"):
        scale.check_ours(cursor, tmp_path / "pgdata")


@pytest.mark.django_db
def test_a_database_with_the_marker_is_recognised_as_the_benchmarks_own() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {scale.MARKER_TABLE} (created_at timestamptz NOT NULL, "
            "scale text NOT NULL, complete boolean NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {scale.MARKER_TABLE} VALUES (now(), %s, true)",  # noqa: S608
            ["500/100/1000"],
        )
        marker = scale.check_ours(cursor, _data_directory())
    assert marker == scale.Marker(scale="500/100/1000", complete=True)


@pytest.mark.django_db
@pytest.mark.urls("bench.urls")
def test_the_yardstick_says_ok_to_a_signed_in_user_only(world) -> None:
    anonymous = Client().get("/bench/ok/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/konto/")
    response = world.nurse.client().get("/bench/ok/")
    assert response.status_code == 200
    assert response.content == b"ok"
