"""The two query engines of the monitoring pipeline, both reached through Ibis.

* ``duckdb`` (default): embedded, in-process; can share the connection of the
  :class:`~carbonpeak.store.Store` so that stored readings are read without copying.
* ``spark``: Apache Spark through PySpark, ``local[2]`` by default or any master URL
  (``spark://host:7077``, ``yarn``, ``k8s://…``) from ``CARBONPEAK_SPARK_MASTER``; a Spark
  Connect URL (``sc://host:15002``) makes the session a thin client of a remote Spark Connect
  server (``pip install 'pyspark[connect]'``), which then reads the lake path itself.

One Spark session per process is reused (:func:`spark_session`), because starting one costs
seconds.  The session time zone is UTC: the pipeline works in epoch seconds and applies the
China Standard Time offset itself, so both engines cut days at the same instant.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import ibis

from carbonpeak.errors import CarbonpeakError

ENGINES = ("duckdb", "spark")

_SPARK_LOCK = threading.Lock()
_SPARK: Any = None

DEFAULT_SPARK_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "false",  # pandas 3 ChunkedArray columns are not accepted
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str = "local[2]", conf: dict[str, str] | None = None) -> Any:
    """The process-wide Spark session (created on first use with :data:`DEFAULT_SPARK_CONF`).

    ``master``: a master URL (``local[2]``, ``spark://…``, ``yarn``, ``k8s://…``) or a Spark
    Connect URL ``sc://host:port`` (a client of a running Spark Connect server).
    """
    global _SPARK
    with _SPARK_LOCK:
        if _SPARK is not None:
            return _SPARK
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise CarbonpeakError(
                "the Spark engine needs pyspark: pip install 'carbonpeak[spark]' (and a Java runtime)"
            ) from exc
        if master.startswith("sc://"):
            # Spark Connect: the cluster's own configuration applies; only the session settings
            # the pipeline relies on are set (UTC: days are cut by the pipeline itself)
            try:
                sess = SparkSession.builder.remote(master).getOrCreate()
            except ImportError as exc:
                raise CarbonpeakError(
                    "a Spark Connect URL needs the connect client: pip install 'pyspark[connect]'"
                ) from exc
            for k in ("spark.sql.session.timeZone",):
                sess.conf.set(k, {**DEFAULT_SPARK_CONF, **(conf or {})}[k])
            _SPARK = sess
            return _SPARK
        b = SparkSession.builder.master(master).appName("carbonpeak-monitoring")
        for k, v in {**DEFAULT_SPARK_CONF, **(conf or {})}.items():
            b = b.config(k, v)
        _SPARK = b.getOrCreate()
        _SPARK.sparkContext.setLogLevel("ERROR")
        return _SPARK


def connect(
    engine: str = "duckdb",
    *,
    duckdb_con: Any = None,
    spark_master: str = "local[2]",
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: str | Path | None = None,
) -> Any:
    """An Ibis backend for ``engine``.  ``duckdb_con`` reuses an existing DuckDB connection.

    ``memory_limit`` (DuckDB syntax, e.g. ``"512MB"``, ``"2GB"``) and ``threads`` bound the
    DuckDB engine of this connection (settings ``monitor_duckdb_memory_limit`` and
    ``monitor_duckdb_threads``, ``CARBONPEAK_MONITOR_DUCKDB_*``); above the limit DuckDB spills
    the aggregation to its temporary directory instead of growing.  With ``duckdb_con`` they apply
    to the whole database (DuckDB's settings are global), so a run on a shared store connection
    should leave them unset.  A connection of its own (no ``duckdb_con``) also spills to
    ``temp_directory`` (setting ``monitor_duckdb_temp_directory``; default
    ``<system temp>/carbonpeak-duckdb``) and runs with ``preserve_insertion_order = false`` (the
    pipeline sorts what it needs itself; DuckDB may then stream and aggregate in any order, with
    less memory).  Spark's memory is set in its own configuration
    (``spark.driver.memory``).
    """
    if engine == "duckdb":
        # a cursor of the store's connection: same database, own session settings (UTC, so that
        # TIMESTAMPTZ → epoch never depends on the machine's time zone)
        con = ibis.duckdb.from_connection(duckdb_con.cursor()) if duckdb_con is not None else ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        # give memory freed after a query back to the system (otherwise the allocator keeps the
        # stage-1 aggregation's few hundred MB for the rest of the run, next to the rules' tables)
        con.raw_sql("SET allocator_background_threads = true")
        # bound parameters: the values never become SQL text
        settings = (("SET memory_limit = ?", "memory_limit", memory_limit), ("SET threads = ?", "threads", threads))
        if duckdb_con is None:
            tmp = Path(temp_directory) if temp_directory else Path(tempfile.gettempdir()) / "carbonpeak-duckdb"
            settings += (("SET temp_directory = ?", "temp_directory", str(tmp)),
                         ("SET preserve_insertion_order = ?", "preserve_insertion_order", False))  # fmt: skip
        for stmt, name, value in settings:
            if value is None or value == "":
                continue
            try:
                con.con.execute(stmt, [value])
            except Exception as exc:  # DuckDB raises its own error types for a malformed value
                raise CarbonpeakError(f"DuckDB setting {name} = {value!r} was refused: {exc}") from exc
        return con
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(spark_master))
    raise CarbonpeakError(f"unknown engine '{engine}'; use one of {', '.join(ENGINES)}")


def release_memory() -> None:
    """Give freed memory back to the system: PyArrow's pool (mimalloc/jemalloc keep freed pages) and
    the C heap (glibc ``malloc_trim``; elsewhere nothing).

    Stage 1's temporaries (the engine's Arrow result, the counters' arrays) are freed into these
    allocators, which keep them for reuse; a run would then hold them (a few hundred MB at 100M
    readings) next to stage 2's and the rules' tables.
    """
    import contextlib
    import ctypes
    import sys

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl): nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def read_lake(con: Any, path: str | Path) -> Any:
    """The readings of a Parquet lake (``<path>/date=YYYY-MM-DD/*.parquet``) as an Ibis table."""
    p = Path(path)
    if not p.exists():
        raise CarbonpeakError(f"data lake not found: {p}")
    if con.name == "duckdb":
        src = str(p / "**" / "*.parquet") if p.is_dir() else str(p)
        return con.read_parquet(src, hive_partitioning=p.is_dir())
    return con.read_parquet(str(p))


def to_arrow(con: Any, expr: Any) -> Any:
    """The result of an Ibis table expression as a PyArrow table.

    On Spark, Ibis converts through pandas (``toPandas`` without Arrow, which the session keeps
    off because pandas 3 columns are not accepted on the way *in*); the meter-day rows of counters
    carry arrays of readings, which that path converts element by element in Python.  Spark ≥ 4
    (classic and Connect) hands the result over as Arrow directly (``DataFrame.toArrow``).
    """
    if con.name == "pyspark":
        session = getattr(con, "_session", None)
        hooks = getattr(con, "_run_pre_execute_hooks", None)
        if session is not None and hooks is not None:
            hooks(expr)  # registers in-memory tables (the meter registry) with the session
            df = session.sql(con.compile(expr.as_table()))
            if hasattr(df, "toArrow"):
                return df.toArrow()
    return con.to_pyarrow(expr)
