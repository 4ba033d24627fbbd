#!/usr/bin/env bash
# Throwaway venvs for the peers of benchmarks/peers/run_peers.py, one per tool, never the project's own
# environment (see README.md here for why there is no `peers` extra). Usage:
#   bash benchmarks/peers/setup_venvs.sh [DIR]          # default DIR: /tmp/peers-venvs
# Environment: PYTHON311 (default python3.11), PYTHON312 (default python3.12: AI2's `decontaminate` needs >= 3.12),
# TORCH_SPEC (optional, e.g. torch==2.13.0: installed first in the datatrove venv, whose lighteval pulls torch;
# on this project's VMs that version's CPU wheel lies on disk, elsewhere pip downloads what it picks).
# A venv that fails to build is reported and skipped: run_peers.py then records the tool as unable to run.
set -u
DIR=${1:-/tmp/peers-venvs}
PY311=${PYTHON311:-python3.11}
PY312=${PYTHON312:-python3.12}
mkdir -p "$DIR"

make() {  # make NAME PYTHON PACKAGES...
  local name=$1 py=$2; shift 2
  echo "== $name: $py -m venv $DIR/$name; pip install $*"
  if ! "$py" -m venv "$DIR/$name"; then echo "!! $name: no $py"; return 1; fi
  "$DIR/$name/bin/pip" install -q "$@" > "$DIR/$name.log" 2>&1 || { echo "!! $name: pip failed, see $DIR/$name.log"; tail -n 3 "$DIR/$name.log"; return 1; }
}

make aho "$PY311" pyahocorasick regex
make decon "$PY312" decontaminate
make janitor "$PY311" lm-eval
# datatrove's decont extra is lighteval; the English word tokenizer needs spaCy, JsonlReader orjson, and
# datatrove's xxhash hashing needs xxhash < 4 (the `processing` extra pins it; 4.x rejects str input).
if [ -n "${TORCH_SPEC:-}" ]; then
  make datatrove "$PY311" "$TORCH_SPEC" && "$DIR/datatrove/bin/pip" install -q 'datatrove[decont]' spacy orjson 'xxhash<4' >> "$DIR/datatrove.log" 2>&1
else
  make datatrove "$PY311" 'datatrove[decont]' spacy orjson 'xxhash<4'
fi
for v in aho decon janitor datatrove; do
  [ -x "$DIR/$v/bin/python" ] && echo "$v: $("$DIR/$v/bin/python" -V 2>&1), $("$DIR/$v/bin/pip" list 2>/dev/null | grep -i -E '^(pyahocorasick|decontaminate|lm.eval|datatrove|lighteval|xxhash|spacy) ' | tr -s ' ' | paste -sd, -)"
done
