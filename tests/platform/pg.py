"""A real PostgreSQL server for the tests: the suite's cluster, or a temporary one of this process.

``CARBONPEAK_TEST_DATABASE_URL`` (the server of the suite's PostgreSQL pass, started by
``scripts/pg-test-cluster.sh``; a role that may create databases) is used when set.  Otherwise the first call starts a
temporary cluster with the same script (``scripts/pg-test-cluster.sh``: Debian's ``postgresql``
package, a free loopback port, an unprivileged user); it is stopped and removed when the test
process exits.  :func:`fresh_database` makes a new empty database each call.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

_admin: str | None = None


REPO = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO / "scripts" / "pg-test-cluster.sh"


def _start_cluster() -> str:
    """The suite's temporary cluster script (scripts/pg-test-cluster.sh), for this process only."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and shutil.which("initdb") is None:
        pytest.skip("no PostgreSQL binaries (apt-get install postgresql; scripts/system-deps.sh)")
    parent = Path(tempfile.mkdtemp(prefix="cp-pgtest-"))
    parent.chmod(0o755)  # the cluster's owner may be another (unprivileged) user
    root = parent / "cluster"
    r = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "start", str(root)], capture_output=True, text=True, check=True
    )

    def stop() -> None:
        subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop", str(root)], capture_output=True, check=False)
        shutil.rmtree(parent, ignore_errors=True)

    atexit.register(stop)
    return r.stdout.strip().splitlines()[-1]


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
