#!/usr/bin/env bash
# Developer check of docs/model.md: the PyTorch peer against transformers' references (../shared/fixtures), then
# Java against the peer on random checkpoints of the shapes in shapes/ (written by Java's TinyCheckpoints with
# random norms and biases). Needs a Python with torch (PYTHON=...); not part of CI.
#
#   PYTHON=/path/to/torch/venv/bin/python bash docs/bench/peer_parity.sh [OUT]
set -euo pipefail
PY=${PYTHON:-python3}
OUT=${1:-/tmp/peer-parity}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jbang="$root/environment/bin/jbang"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

for f in "$root"/../shared/fixtures/*-tiny; do
  [ -f "$f/expected.json" ] && "$PY" "$here/decoder_peer.py" check-fixture "$f"
done
mkdir -p "$OUT"
for c in "$here"/shapes/*.json; do
  d="$OUT/$(basename "$c" .json)"
  rm -rf "$d"
  "$jbang" "$root/jbang-scripts/tiny-checkpoint.java" "$c" "$d" --dtype BF16 --shards 2 --randomize-norms-and-biases
  "$PY" "$here/decoder_peer.py" make-fixture "$d" --lengths 5 17 40 9 130
  "$jbang" "$root/jbang-scripts/parity.java" "$d" | grep -v "^\[main\]"
done
