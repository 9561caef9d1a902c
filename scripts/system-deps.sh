#!/usr/bin/env bash
# Install the Debian packages carbonpeak's full test suite and reports need, if missing:
#   - a Java runtime for Apache Spark (local mode in tests)
#   - Chromium (browser tests; HTML -> PDF printing of reports)
#   - CJK fonts (Chinese text in PDF reports)
#   - poppler-utils (pdftotext: the report tests read the printed PDF's pages)
# Runs apt-get only when something is missing; needs root (CI and the dev machines run as root).
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if ! fc-list :lang=zh 2>/dev/null | grep -qi 'noto'; then need+=(fonts-noto-cjk fontconfig); fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "system-deps: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: need root to install ${need[*]}; tests marked spark/browser will fail" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  # openjdk-17 is not in every Debian release; take the default JRE instead
  need=("${need[@]/openjdk-17-jre-headless/default-jre-headless}")
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
