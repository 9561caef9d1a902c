"""A job worker process for the tests of durable jobs (tests/platform/test_durable_jobs.py).

Registers two test kinds beside the platform's and then, by the first argument:

* ``submit STORE KIND N [JSON-PARAMS]`` — submit N jobs as the province analyst ``ana``, print their ids;
* ``run STORE`` — run the runnable jobs, print their ids (JSON) and exit;
* ``work STORE`` — run jobs until killed (lease from ``CP_TEST_LEASE``, default 2 s).

``test.record`` writes one row (job id, pid) into ``t_job_runs`` per run: the tests count how
often each job ran.  ``test.sleep`` sleeps ``seconds`` in small progress steps when the process
has ``CP_TEST_SLOW=1`` (so a worker can be killed in the middle; it creates the file
``CP_TEST_MARK`` when it starts), else returns at once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from pydantic import Field

from carbonpeak.store import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows.jobs import JobParams, Progress, Runner, job_kind, load_kinds, submit

ANALYST = Principal("ana", "province_analyst")


class RecordParams(JobParams):
    n: int = Field(ge=0)


@job_kind("test.record", RecordParams)
def record(store: Store, params: RecordParams, p: Principal, progress: Progress) -> dict[str, Any]:
    jid = os.environ.get("CP_TEST_JOB", "")
    with store.transaction() as con:
        con.execute("INSERT INTO t_job_runs (n, pid, who) VALUES (?, ?, ?)", [params.n, os.getpid(), p.username])
    return {"n": params.n, "pid": os.getpid(), "job": jid}


class SleepParams(JobParams):
    seconds: float = Field(ge=0, le=600)


@job_kind("test.sleep", SleepParams, max_attempts=3)
def sleep(store: Store, params: SleepParams, p: Principal, progress: Progress) -> dict[str, Any]:
    if os.environ.get("CP_TEST_SLOW") == "1":
        mark = os.environ.get("CP_TEST_MARK")
        if mark:
            open(mark, "w").close()
        end = time.monotonic() + params.seconds
        while time.monotonic() < end:
            time.sleep(0.1)
            progress(0.5)
    return {"pid": os.getpid()}


def make_runs_table(store: Store) -> None:
    store.con.execute("CREATE TABLE IF NOT EXISTS t_job_runs (n INTEGER, pid INTEGER, who VARCHAR)")


def main(argv: list[str]) -> int:
    cmd, location = argv[0], argv[1]
    load_kinds()
    store = Store(location)
    lease = int(os.environ.get("CP_TEST_LEASE", "2"))
    try:
        if cmd == "submit":
            kind, n = argv[2], int(argv[3])
            params = json.loads(argv[4]) if len(argv) > 4 else {}
            ids = [submit(store, kind, {**params, **({"n": i} if kind == "test.record" else {})}, ANALYST)
                   for i in range(n)]  # fmt: skip
            print(json.dumps(ids), flush=True)
        elif cmd == "run":
            print(json.dumps(Runner(store, lease_seconds=lease).run_pending()), flush=True)
        elif cmd == "work":
            runner = Runner(store, lease_seconds=lease, poll_seconds=0.1)
            print(runner.worker, flush=True)
            runner.start()
            while True:
                time.sleep(1)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
