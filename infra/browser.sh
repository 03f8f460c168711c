#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/browser/): installed with apt-get when missing
# (CI runs as root). Playwright never downloads a browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "browser.sh: chromium is missing; run as root or: sudo apt-get install chromium" >&2
  exit 0  # the browser tests then fail (MUNI_REQUIRE_SERVERS=1) or skip, saying so
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
