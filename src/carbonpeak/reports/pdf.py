"""HTML → PDF with headless Chromium (fonts come from fontconfig: install fonts-noto-cjk)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from carbonpeak.errors import CarbonpeakError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for name in CANDIDATES:
        p = shutil.which(name)
        if p:
            return p
    return None


def html_to_pdf(html: Path, pdf: Path, *, timeout: float = 120.0, browser: str | None = None) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium.  Raises CarbonpeakError when unavailable."""
    exe = browser or find_chromium()
    if exe is None:
        raise CarbonpeakError("no Chromium found: install it (make system-deps) to print the PDF report")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    if pdf.exists():
        pdf.unlink()
    with tempfile.TemporaryDirectory(prefix="carbonpeak-chromium-") as profile:
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}",
            html.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CarbonpeakError(f"Chromium did not finish printing within {timeout:.0f} s") from exc
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise CarbonpeakError(f"Chromium failed to print {html}: {proc.stderr.strip()[-500:]}")
    return pdf
