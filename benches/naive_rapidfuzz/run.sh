#!/usr/bin/env bash
# Naive rapidfuzz baseline.
# usage: run.sh DATA_DIR [VENV_DIR=/tmp/naive-venv] [naive.py options...]
# e.g.   run.sh /tmp/synth_1m /tmp/naive-venv --sample 100 --json-out /tmp/naive_1m.json
set -euo pipefail
DATA=${1:?usage: run.sh DATA_DIR [VENV_DIR] [naive.py options]}
VENV=${2:-/tmp/naive-venv}
shift $(( $# >= 2 ? 2 : 1 ))
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check rapidfuzz numpy  # numpy only for --cdist
exec "$VENV/bin/python" "$HERE/naive.py" "$DATA" "$@"
