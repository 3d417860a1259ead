#!/usr/bin/env bash
# The README's test command: install the project with its test tools, then run the suite.
# Safe to run from nothing: it installs into the active environment (or a .venv it creates).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install -q --disable-pip-version-check -e '.[test]' ./tests/thirdparty_plugin ./examples/codex-tool-now ./examples/codex-provider-anthropic ./examples/codex-sandbox-bwrap
python -m pytest -q "$@"
