#!/usr/bin/env bash
# Writes what check_transformers_peft.py compares, on any machine with Java (no Python needed):
#
#   bash environment/interop/make_bundle.sh OUT [FIXTURES]      (FIXTURES: default ../shared/fixtures)
#
# OUT/fixture-<name>.json   arena-kit's logits for each fixture's inputs, base and with its adapter (which carries
#                           no head: applied over the checkpoint's score, as the fixture's reference did); the fixture
#                           folders themselves are not copied (the Python side finds them under --fixtures)
# OUT/tiny-stages.json      arena-kit's logits on a tiny random Gemma-2 (the smoke setup's base) without and with
#                           the adapters of two trained tiny stages (two seeds of the smoke stage 1) and of their
#                           LoRA average (kind "average"), all copied into OUT/tiny/ as files (a few hundred KiB)
#
# Then, on a machine with torch + transformers + peft:  python3 check_transformers_peft.py OUT
set -euo pipefail
OUT=${1:?usage: make_bundle.sh OUT [FIXTURES]}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FIX=${2:-$root/../shared/fixtures}
jbang="$root/environment/bin/jbang"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

for f in "$FIX"/*/; do
  f=${f%/}
  [ -f "$f/expected.json" ] || continue
  "$jbang" "$root/jbang-scripts/parity.java" "$f" --export "$OUT/fixture-$(basename "$f").json" 2>&1 | grep -v '^\[main\]\|Picked up'
done

# two seeds of the smoke stage 1 (a few steps each) and their average
setup="$OUT/work/setup"
rm -rf "$OUT/work" "$OUT/tiny"
mkdir -p "$setup"
cp "$root"/configs/smoke/*.json "$setup/"
sed -i 's/"max_steps": 12, "eval_every": 6, "checkpoint_every": 6/"max_steps": 8, "eval_every": 0, "checkpoint_every": 0/' \
  "$setup/stage1.json"
sed 's/"train": {"seed": 42,/"train": {"seed": 43,/' "$setup/stage1.json" > "$setup/stage1b.json"
cat > "$setup/avg.json" <<'EOF'
{"kind": "average", "description": "the two seeds of stage 1, averaged", "models": ["stage1", "stage1b"], "rank": null}
EOF
sed -i 's/"stages": \[[^]]*\]/"stages": ["stage1", "stage1b", "avg"]/' "$setup/pipeline.json"
"$jbang" "$root/jbang-scripts/pipeline.java" --config "$setup" --out "$OUT/work/out" 2>&1 | grep -v '^\[main\]\|Picked up'

mkdir -p "$OUT/tiny"
cp -r "$OUT/work/out/base-model" "$OUT/tiny/base-model"
for s in stage1 stage1b avg; do
  mkdir -p "$OUT/tiny/$s"
  cp -r "$OUT/work/out/$s/adapter" "$OUT/tiny/$s/adapter"
done
"$jbang" "$root/jbang-scripts/parity.java" "$OUT/tiny/base-model" --export "$OUT/tiny-stages.json" \
  --adapter "$OUT/tiny/stage1/adapter" --adapter "$OUT/tiny/stage1b/adapter" --adapter "$OUT/tiny/avg/adapter" \
  2>&1 | grep -v '^\[main\]\|Picked up'
rm -rf "$OUT/work"
du -sh "$OUT"
echo "next, where torch + transformers + peft are installed: python3 $here/check_transformers_peft.py $OUT"
