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
