"""The pipeline through Spark Connect: a local Spark Connect server (the server class ships in
PySpark's own jars) started with spark-submit, and a client process whose engine URL is
``sc://127.0.0.1:PORT`` — it must give the meter-day table DuckDB gives on the same lake."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.spark

START = dt.date(2025, 1, 1)
END = START + dt.timedelta(days=39)
CLIENT = """
import datetime as dt, json, sys
from carbonpeak.io import read_table
from carbonpeak.monitoring.engine import connect, read_lake
from carbonpeak.monitoring.pipeline import compute_meter_day
from carbonpeak.monitoring.registry import validate_kind
url, lake, d0, d1 = sys.argv[1:5]
meters = validate_kind(read_table(lake + "/registry/meters.csv"), "meters")
con = connect("spark", spark_master=url)
assert type(con._session).__module__.startswith("pyspark.sql.connect"), type(con._session)
md = compute_meter_day(con, read_lake(con, lake + "/readings"), meters, dt.date.fromisoformat(d0), dt.date.fromisoformat(d1))
print(md.to_json(orient="split"))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    pytest.importorskip("grpc", reason="the Spark Connect client needs pyspark[connect] (grpcio)")
    import pyspark

    home = Path(pyspark.__file__).parent
    if not list((home / "jars").glob("spark-connect_*.jar")):
        pytest.skip("this PySpark has no Spark Connect server jar")
    port = _free_port()
    log = tmp_path_factory.mktemp("sc") / "server.log"
    cmd = [str(home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
           "--master", "local[2]", "--driver-memory", "1g", "--conf", f"spark.connect.grpc.binding.port={port}",
           "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", "spark.ui.enabled=false",
           "--name", "carbonpeak-connect-test", "spark-internal"]  # fmt: skip
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "SPARK_HOME": str(home)})
    try:
        deadline = time.monotonic() + 180
        while "Spark Connect server started" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("Spark Connect server did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_pipeline_through_spark_connect(connect_server, synth, con_factory, reg_of):
    from carbonpeak.monitoring.engine import read_lake
    from carbonpeak.monitoring.pipeline import compute_meter_day

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", CLIENT, connect_server, str(synth), str(START), str(END)],
                         capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    got = pd.DataFrame(**json.loads(out.stdout.strip().splitlines()[-1]))
    con = con_factory("duckdb")
    want = compute_meter_day(con, read_lake(con, synth / "readings"), reg_of(synth)["meters"], START, END)
    cols = ["meter_id", "day", "n", "n_negative", "n_impossible", "n_resets", "n_rollovers", "first_epoch", "last_epoch"]
    pd.testing.assert_frame_equal(got[cols].astype(want[cols].dtypes.to_dict()), want[cols])
    assert got["energy"].to_numpy() == pytest.approx(want["energy"].to_numpy(), rel=1e-12)
