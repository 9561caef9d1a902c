"""The command line behaves as people expect (issue 12, "Habits the field expects").

A mistyped command or option gets click's short usage error (not a traceback), a
CarbonpeakError a one-line ``error:`` message, and ``carbonpeak --help`` imports none of the heavy
libraries (the 0.3 s budget is measured in bench/bench_cli.py, not here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_SRC = Path(__file__).resolve().parents[2] / "src"


def _run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_SRC), *(p for p in sys.path if p)])}
    env.update({"COLUMNS": "100", "NO_COLOR": "1", **(env_extra or {})})
    code = "import sys\nfrom carbonpeak.cli import main\nsys.exit(main())\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch",), "No such command 'nosuch'"),
        (("inventory", "compil"), "No such command 'compil'"),
        (("factors", "list", "--bogus", "1"), "No such option: --bogus"),
        (("--nosuch",), "No such option: --nosuch"),
    ],
)
def test_mistyped_command_or_option_is_a_usage_error(args: tuple[str, ...], message: str) -> None:
    r = _run(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert message in r.stderr
    assert "Usage: carbonpeak" in r.stderr
    assert "--help' for help" in r.stderr


def test_carbonpeak_error_is_a_clean_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("year,region,sector\n2020,GD,x\n", encoding="utf-8")
    r = _run("inventory", "compile", str(bad))
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stderr.lstrip().startswith("error:")
    assert "required column 'item' is missing" in " ".join(r.stderr.split())


def test_main_in_process_returns_usage_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    from carbonpeak.cli import main

    assert main(["nosuch"]) == 2
    assert "No such command" in capsys.readouterr().err


HEAVY = ("pandas", "numpy", "duckdb", "ibis", "fastapi", "SALib", "scipy", "pyarrow", "matplotlib",
         "pydantic_settings", "carbonpeak.config", "carbonpeak.store")


def test_top_level_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nfrom carbonpeak.cli import main\n"
        "rc = main(['--help'])\n"
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('RESULT', rc, bad)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_SRC), *(p for p in sys.path if p)])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().splitlines()[-1] == "RESULT 0 []"


def test_fast_help_is_the_full_apps_help() -> None:
    fast = _run("--help")
    full_code = "from carbonpeak.cli import app\napp(['--help'], prog_name='carbonpeak')\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_SRC), *(p for p in sys.path if p)]),
           "COLUMNS": "100", "NO_COLOR": "1"}
    full = subprocess.run([sys.executable, "-c", full_code], capture_output=True, text=True, env=env)
    assert fast.returncode == 0
    assert fast.stdout == full.stdout


def test_every_command_has_a_summary() -> None:
    from carbonpeak import cli

    assert set(cli.SUMMARIES) == set(cli.COMMANDS)


DEMO = Path(__file__).resolve().parents[2] / "src" / "carbonpeak" / "demo" / "data" / "activity"


def test_parquet_output_is_the_row_level_table() -> None:
    import io

    import pandas as pd
    from typer.testing import CliRunner

    from carbonpeak.cli import app

    files = [str(p) for p in sorted(DEMO.glob("*.csv"))]
    runner = CliRunner()
    r = runner.invoke(app, ["inventory", "compile", *files, "--year", "2019", "-f", "parquet"])
    assert r.exit_code == 0, r.output
    got = pd.read_parquet(io.BytesIO(r.stdout_bytes))
    c = runner.invoke(app, ["inventory", "compile", *files, "--year", "2019", "-f", "csv", "--detail"])
    want = pd.read_csv(io.StringIO(c.stdout.lstrip("\ufeff")), keep_default_na=False)
    assert len(got) == len(want) > 100
    assert list(got.columns) == list(want.columns)
    assert got["co2e_t"].sum() == pytest.approx(pd.to_numeric(want["co2e_t"], errors="coerce").sum())


def test_parquet_goes_to_a_file_never_to_a_terminal(tmp_path: Path) -> None:
    import pty

    import pandas as pd

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_SRC), *(p for p in sys.path if p)])}
    code = "import sys\nfrom carbonpeak.cli import main\nsys.exit(main())\n"
    path = tmp_path / "f.parquet"
    with path.open("wb") as fh:  # `carbonpeak factors list -f parquet > f.parquet`
        r = subprocess.run([sys.executable, "-c", code, "factors", "list", "-f", "parquet"], stdout=fh,
                           stderr=subprocess.PIPE, env=env, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(pd.read_parquet(path)) > 10
    leader, follower = pty.openpty()  # a terminal: binary output is refused with a usage error
    try:
        r = subprocess.run([sys.executable, "-c", code, "factors", "list", "-f", "parquet"], stdout=follower,
                           stderr=subprocess.PIPE, env=env, timeout=120)  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert r.returncode == 2
    assert b"redirect it to a file" in r.stderr
    assert b"Traceback" not in r.stderr


def test_wide_tables_fit_80_columns_and_wide_shows_all() -> None:
    narrow = _run("factors", "show", "raw_coal")
    assert narrow.returncode == 0
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 100  # COLUMNS=100 in _run
    assert "not shown" in narrow.stdout
    assert "--wide shows all" in narrow.stdout
    wide = _run("factors", "show", "raw_coal", "--wide")
    assert wide.returncode == 0
    assert "not shown" not in wide.stdout
    assert max(len(line) for line in wide.stdout.splitlines()) > 100
    assert "origin" in wide.stdout


def test_probabilities_print_as_percent() -> None:
    import pandas as pd
    from rich.console import Console

    from carbonpeak.cli.output import print_table

    con = Console(width=80, record=True, file=__import__("io").StringIO())
    print_table(pd.DataFrame({"peak_year": [2029, 2030], "probability": [0.125, 0.875], "p_met": [0.5, None]}),
                out=con)  # fmt: skip
    text = con.export_text()
    assert "12.5%" in text
    assert "87.5%" in text
    assert "50.0%" in text
    assert "2029" in text
