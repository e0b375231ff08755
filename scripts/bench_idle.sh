#!/usr/bin/env bash
# Headline timings on an otherwise idle machine, end to end as users run them:
#   - the student's `check` of a whole notebook (TensorFlow import included), 5 runs;
#   - one submission graded from scratch (fresh output dir, no cache), 3 runs;
#   - a bare `python -c "import tensorflow"` as the baseline, 5 runs.
# Prints every wall time and the medians. Usage: bash scripts/bench_idle.sh [PY]
set -euo pipefail
PY=${1:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=3
work=$(mktemp -d)
cp -r examples/reference "$work/ref"
cp -r student_template/. "$work/ref-repo"; cp examples/reference/resnet_a_la_main.ipynb "$work/ref-repo/"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.2f\n", e - s}'; }
echo "import tensorflow:"; for i in 1 2 3 4 5; do t "$PY" -c "import tensorflow"; done | tee "$work/tf" ; echo "median $(median < "$work/tf")"
echo "check (whole notebook):"; for i in 1 2 3 4 5; do t "$PY" -m autograder check "$work/ref-repo/resnet_a_la_main.ipynb"; done | tee "$work/check"; echo "median $(median < "$work/check")"
echo "grade one submission (fresh):"; for i in 1 2 3; do t "$PY" -m autograder grade "$work/ref-repo" --out "$work/out$i" --no-report; done | tee "$work/grade"; echo "median $(median < "$work/grade")"
grep -h '"total"' "$work"/out1/submissions/*.json | head -1
rm -rf "$work"
