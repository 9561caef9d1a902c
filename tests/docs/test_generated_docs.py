"""docs/cli.md and docs/api.md are generated from the code; they must not go stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", ["scripts/gen_cli_docs.py", "scripts/gen_api_docs.py"])
def test_generated_reference_is_current(script):
    r = subprocess.run([sys.executable, str(REPO / script), "--check"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, f"{script} --check failed; regenerate with `python {script}`:\n{r.stdout}{r.stderr}"
