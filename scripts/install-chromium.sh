#!/usr/bin/env bash
# Debian's Chromium, which the web app's browser test (apps/web, playwright-core) drives headless:
# Playwright's own browser download cannot reach its host on our machines. Installs it from Debian
# when /usr/bin/chromium is missing; needs root. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "chromium: /usr/bin/chromium is missing; run as root or install it with 'apt-get install -y chromium'" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
