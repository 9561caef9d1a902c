"""The command line imports only the module of the command it runs: the map it uses must name
every command and group each module registers (and nothing else)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
import typer

from carbonpeak import cli


def _names(app: typer.Typer) -> set[str]:
    cmds = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return cmds | {g.name for g in app.registered_groups}


def test_command_map_matches_the_modules():
    for name in cli.COMMAND_MODULES:
        try:
            importlib.import_module(f"carbonpeak.cli.{name}")
        except ModuleNotFoundError:
            continue
        registered = _names(cli.build_app((name,)))
        mapped = {k for k, v in cli.COMMANDS.items() if v == name}
        assert registered == mapped, name


def test_full_app_has_every_command():
    assert _names(cli.app) == set(cli.COMMANDS)


def test_monitor_help_does_not_import_other_areas():
    code = (
        "import sys\nfrom carbonpeak.cli import main\n"
        "rc = main(['monitor', '--help'])\n"
        "bad = [m for m in ('carbonpeak.cli.targets', 'carbonpeak.cli.scenario', 'carbonpeak.cli.inventory', "
        "'scipy.stats', 'ibis') if m in sys.modules]\n"
        "print(rc, bad)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip().splitlines()[-1] == "0 []"


def test_chisquare_matches_scipy_stats():
    import numpy as np
    from scipy import stats

    from carbonpeak.monitoring.chisq import chisquare

    rng = np.random.default_rng(3)
    for _ in range(20):
        obs = rng.integers(1, 200, size=int(rng.integers(2, 12)))
        exp = rng.random(obs.size) + 0.1
        exp = exp / exp.sum() * obs.sum()
        for e in (None, exp):
            want = stats.chisquare(obs, e)
            got = chisquare(obs, e)
            assert got[0] == pytest.approx(want.statistic, rel=1e-12)
            assert got[1] == pytest.approx(want.pvalue, rel=1e-9, abs=1e-300)


def test_chi2_sf_matches_scipy_over_a_wide_range():
    from scipy import stats

    from carbonpeak.monitoring.chisq import chi2_sf

    for df in (1, 2, 3, 8, 9, 15):
        for x in (0.0, 1e-6, 0.5, 3.0, 10.0, 50.0, 280.0, 1200.0):
            want = float(stats.chi2.sf(x, df))
            assert chi2_sf(x, df) == pytest.approx(want, rel=1e-9, abs=1e-300), (df, x)
