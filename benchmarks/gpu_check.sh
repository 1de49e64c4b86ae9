#!/usr/bin/env bash
# The GPU check, in one script for a machine with CUDA (about 5 minutes, at most ~8.5):
#   1. environment: python, torch, the GPU and its memory (stops here when there is no CUDA);
#   2. the GPU tests (files with @pytest.mark.gpu, run with -m gpu), at most 180 s;
#   3. the GPU benchmark (benchmarks/run.py --device cuda 16 18 20 22 24), at most 330 s: each
#      row is skipped when the memory plan or the time extrapolated from the previous size
#      says it would not fit (--max-seconds), and the tables are rewritten after each section,
#      so a timeout still leaves the rows measured so far.
# Tables go to benchmarks/results/<gpu>-cuda.{md,json}; when $OUT is set they are copied there
# with this script's log. Usage: bash benchmarks/gpu_check.sh [extra run.py arguments]
# Interpreter: $PYTHON, else .venv/bin/python, else python3 (the GPU machine's image has torch,
# numpy, scipy, pytest and hypothesis; dit and pgmpy rows are skipped when they are missing).
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
log=${OUT:+$OUT/gpu_check.log}
log=${log:-/tmp/exactmd_gpu_check.log}
: >"$log"
say() { echo "=== $(date +%T) $*" | tee -a "$log"; }
status=0

say "1/3 environment"
if ! "$py" - 2>&1 <<'EOF' | tee -a "$log"; then
import sys
import numpy, torch
print("python", sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__,
      "cuda", torch.version.cuda)
if not torch.cuda.is_available():
    print("no CUDA device: torch.cuda.is_available() is False")
    sys.exit(1)
p = torch.cuda.get_device_properties(0)
free, total = torch.cuda.mem_get_info(0)
print(f"GPU {p.name}: {total / 2**30:.1f} GiB, {free / 2**30:.1f} GiB free, "
      f"{p.multi_processor_count} SMs")
EOF
    say "stopping: no usable CUDA device"
    exit 2
fi

say "2/3 GPU tests (pytest -m gpu, limit 180 s)"
files=$(grep -l "mark.gpu" tests/test_*.py)
timeout 180 "$py" -m pytest -m gpu -q -p no:cacheprovider -o addopts="-ra" $files 2>&1 \
    | tail -40 | tee -a "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || { status=1; say "GPU tests: exit code $rc (124 = timed out)"; }

say "3/3 benchmark (limit 330 s)"
timeout 330 "$py" benchmarks/run.py --device cuda --repeat 3 "$@" 16 18 20 22 24 2>&1 \
    | tee -a "$log" | grep -v "^  " | tail -80
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || { status=1; say "benchmark: exit code $rc (124 = timed out; partial tables kept)"; }

if [ -n "${OUT:-}" ]; then
    cp benchmarks/results/*-cuda.md benchmarks/results/*-cuda.json "$OUT"/ 2>/dev/null || true
    say "copied to $OUT: $(ls "$OUT" | tr '\n' ' ')"
fi
say "done (status $status)"
exit "$status"
