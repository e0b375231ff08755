#!/usr/bin/env bash
# Engine vs otter-grader on the reference submission, alternated in one run so
# both see the same machine: `python -m autograder grade` (fresh output, no cache)
# against `otter run -a build/autograder.zip` on the reference notebook with its
# training cells runnable (otter re-executes the whole notebook, training included). Usage: bash scripts/bench_otter_baseline.sh [RUNS] [PY]
set -euo pipefail
RUNS=${1:-3}
PY=${2:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=3
[ -f build/autograder.zip ] || "$PY" -m autograder.delivery zip >/dev/null
work=$(mktemp -d)
cp -r student_template/. "$work/repo"
# The reference solution, with its training cells made runnable by otter (the kit
# tags them otter_ignore): this is what otter-grader does with a plain notebook.
"$PY" - "$work/repo/resnet_a_la_main.ipynb" <<'PYEOF'
import sys, nbformat
nb = nbformat.read("solutions/resnet_a_la_main.ipynb", as_version=4)
for cell in nb.cells:
    tags = cell.metadata.get("tags", [])
    if "training" in tags:
        cell.metadata["tags"] = [t for t in tags if t != "otter_ignore"]
nbformat.write(nb, sys.argv[1])
PYEOF
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "  (exit $?)" >&2; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.1f\n", e - s}'; }
for i in $(seq "$RUNS"); do
  printf 'engine %s\n' "$(t "$PY" -m autograder grade "$work/repo" --out "$work/out$i" --no-report)"
  mkdir -p "$work/otter$i"; printf 'otter  %s\n' "$(t "$PY" -m otter run -a build/autograder.zip -o "$work/otter$i" "$work/repo/resnet_a_la_main.ipynb")"
done | tee "$work/times"
for tool in engine otter; do
  printf '%s median %s s\n' "$tool" "$(awk -v k="$tool" '$1 == k {print $2}' "$work/times" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
done
grep -h '"total"' "$work"/out1/submissions/*.json | head -1
# otter's results.json: one entry per test file, each with its score and possible points
cat "$work"/otter1/results.json 2>/dev/null | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("otter total", sum(t["score"] for t in d.values()), "/", sum(t["possible"] for t in d.values()))' 2>/dev/null || ls "$work/otter1"
rm -rf "$work"
