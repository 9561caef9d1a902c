"""The command line's light settings (``carbonpeak.cli.settings``) agree with ``Settings``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from carbonpeak.cli import settings as light


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No CARBONPEAK_* variable, no configuration file in the working directory."""
    for k in list(os.environ):
        if k.upper().startswith("CARBONPEAK_"):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)
    from carbonpeak.config import get_settings

    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_defaults_are_the_settings_defaults(bare: Path) -> None:
    from carbonpeak.config import Settings, get_settings

    assert not light.configured()
    full = get_settings()
    s = light.settings()
    for name, value in light.DEFAULTS.items():
        assert Settings.model_fields[name].default == value, name
        assert getattr(s, name) == getattr(full, name), name
    assert s.store_location == full.store_location


def test_an_environment_variable_or_a_config_file_loads_the_settings(
    bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carbonpeak.config import get_settings

    monkeypatch.setenv("carbonpeak_engine", "spark")  # any case, as pydantic-settings reads it
    assert light.configured()
    assert light.settings().engine == "spark"
    monkeypatch.delenv("carbonpeak_engine")
    get_settings.cache_clear()
    (bare / "carbonpeak.toml").write_text('lake_path = "lake"\nspark_master = "local[1]"\n')
    assert light.configured()
    s = light.settings()
    assert (s.lake_path, s.spark_master) == (Path("lake"), "local[1]")
    get_settings.cache_clear()
    monkeypatch.setenv("CARBONPEAK_CONFIG", str(bare / "elsewhere.toml"))  # a variable: the full path
    assert light.configured()
    assert light.settings().lake_path is None


def test_monitor_commands_do_not_load_the_settings_machinery_when_nothing_sets_them(bare: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom carbonpeak.cli import main\n"
        "rc = main(['monitor', 'run', '--help'])\n"
        "print(rc, 'pydantic_settings' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CARBONPEAK_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=bare)
    assert out.stdout.strip().splitlines()[-1] == "0 False"
