#!/usr/bin/env bash
# One script for a machine with CUDA: the GPU tests, then the GPU benchmark (tables written to
# benchmarks/results/ and, when $OUT is set, copied there). Usage: bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
"$py" -m pytest -m gpu -q -p no:cacheprovider -o addopts="" tests/ 2>&1 | tail -20
"$py" benchmarks/run.py --device cuda --repeat 3 16 18 20 22 24 2>&1 | tail -80
if [ -n "${OUT:-}" ]; then cp benchmarks/results/*cuda* "$OUT"/ 2>/dev/null || true; fi
