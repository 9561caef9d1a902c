"""A real PostgreSQL server for the tests: the suite's cluster, or a temporary one of this process.

``CARBONPEAK_TEST_DATABASE_URL`` (the server of the suite's PostgreSQL pass, started by
``scripts/pg-test-cluster.sh``; a role that may create databases) is used when set.  Otherwise the first call starts a
temporary cluster (Debian's ``postgresql`` package, ``initdb`` + ``pg_ctl``) in a temporary folder
on a free loopback port, as the current user or, under root, as ``nobody``; it is stopped and
removed when the test process exits.  :func:`fresh_database` makes a new empty database each call.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

_admin: str | None = None


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_cluster() -> str:
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (apt-get install postgresql; scripts/system-deps.sh)")
    root = Path(tempfile.mkdtemp(prefix="cp-pgtest-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(root, "nobody")
    data, port = root / "data", _free_port()
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def admin_url() -> str:
    global _admin
    if _admin is None:
        _admin = os.environ.get("CARBONPEAK_TEST_DATABASE_URL") or _start_cluster()
    return _admin


def fresh_database() -> str:
    """The URL of a new, empty database on the test server."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url())
    name = "cp_" + uuid.uuid4().hex[:12]
    with psycopg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        dbname=admin.database,
        autocommit=True,
    ) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return admin.set(database=name).render_as_string(hide_password=False)
