"""``carbonpeak --version`` is answered by the light index app (no command module, no pandas), and
says what the full app says."""

from __future__ import annotations

import os
import subprocess
import sys


def _py(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout


def test_version_loads_no_command_module() -> None:
    out = _py(
        "import sys\nfrom carbonpeak.cli import main\n"
        "rc = main(['--version'])\n"
        "bad = sorted(m for m in sys.modules if m in ('pandas', 'numpy', 'pydantic_settings') "
        "or (m.startswith('carbonpeak.cli.') and m not in ('carbonpeak.cli.tablefit',)))\n"
        "print('RESULT', rc, bad)\n"
    )
    lines = out.strip().splitlines()
    assert lines[-1] == "RESULT 0 []"
    full = _py("from carbonpeak.cli import app\napp(['--version'], prog_name='carbonpeak', standalone_mode=False)\n")
    assert lines[0] == full.strip().splitlines()[0]
    assert lines[0].startswith("carbonpeak ")
