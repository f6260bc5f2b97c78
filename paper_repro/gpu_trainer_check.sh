#!/usr/bin/env bash
# The ONE prepared GPU check of issues 6 (half-precision FNO trainer) and 4 (cuFFT vs the emulator). Everything it
# measures goes to $OUT as JSON (logs in one archive); nothing is typed by hand. Run from anywhere, on a machine
# with one CUDA GPU:
#
#     OUT=/path/to/out bash paper_repro/gpu_trainer_check.sh
#
# Steps (about 5-7 minutes on one H200):
#   0. environment facts (GPU, torch, CUDA) -> env.json in $OUT/logs.tar.gz
#   1. GPU unit tests of the trainer (fp16 cuFFT path, dft backend on CUDA; errbound.neuralop on CUDA when
#      neuraloperator is importable) -> pytest_gpu.txt in $OUT/logs.tar.gz
#   2. errbound bench: FNO 2-D, hidden 64, 32x32 modes, 4 layers, batch 16, one training step per config,
#      res 256, 384, 421, 512 (384 and 421 are not powers of two), precisions full/amp/mixed/half, backends
#      dft and fft; neuraloperator side by side if importable (carry a wheel in .whl/ to get it)
#      -> $OUT/bench.json; CP (TFNO) pairwise vs naive contraction at 256 -> $OUT/bench_cp_{pairwise,naive}.json
#   2c. issue 15: errbound bench --neuralop: neuraloperator's FNO in its own full/amp/mixed/half modes against the
#      same FNO patched with errbound's policies (dft backend), res 256, 421, 512 (NEURALOP_RES), same model
#      -> bench_neuralop.json in $OUT/logs.tar.gz ($OUT is full); needs neuraloperator==2.0.0 and its
#      dependencies importable (else the step records its one-line error in bench_neuralop.stderr)
#   3. the paper's GPU artefacts at their GPU setting (issue 14): errbound repro memory_throughput precision_table
#      error_vs_time pareto --device cuda (training: paper_repro/_training.py settings_for, CUDA full: Darcy
#      64x64, 1000 train / 100 test, zero-shot at 128, hidden 64, 16 modes, 4 layers, 10 epochs, 1 seed;
#      neuraloperator side by side in memory_throughput when importable) -> NAME.gpu.{json,png,pdf} in
#      $OUT/repro_gpu.tar.gz (extract at the repository root: paper_repro/results/ and figures/)
#   4. paper_repro/gpu_precision_check.py (issue 4: cuFFT fp16 vs the emulator, n = 16..2048, about 1 minute)
#      -> $OUT/gpu_precision_check.json (PRECISION_CHECK=0 skips it)
# $OUT then holds 6 files (the device tool returns at most 8): bench.json, bench_cp_{pairwise,naive}.json,
# gpu_precision_check.json, repro_gpu.tar.gz and logs.tar.gz.
# Optional: PYTHON (default python3), BENCH_STEPS (default 10), REPRO (default 1; 0 skips step 3). For a
# plumbing dry run on a CPU machine: DEVICE=cpu BENCH_RES=16,12 BENCH_MODEL="--hidden 4 --modes 4 --layers 1
# --batch 2" CP_RES=16 NEURALOP_RES=16,12 REPRO_FLAGS=--quick (step 3 then runs the CPU quick versions)
set -euo pipefail
: "${OUT:?set OUT to an output folder}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
STEPS="${BENCH_STEPS:-10}"
DEVICE="${DEVICE:-cuda}"
BENCH_RES="${BENCH_RES:-256,384,421,512}"
BENCH_MODEL="${BENCH_MODEL:---hidden 64 --modes 32 --layers 4 --batch 16}"
CP_RES="${CP_RES:-256}"
mkdir -p "$OUT"
# The device tool brings back at most 8 files from $OUT: the 7 JSON results go there, logs and run folders
# go to $WORK and come back as one archive, logs.tar.gz.
WORK="${WORK:-/tmp/errbound_gpu_work}"
mkdir -p "$WORK"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export ERRBOUND_PROGRESS=1
export ERRBOUND_DATA="${ERRBOUND_DATA:-/tmp/errbound_data}"  # not under $OUT: the device tool returns at most 8 files

if compgen -G "$ROOT/.whl/*.whl" > /dev/null; then
    "$PY" -m pip install --no-deps --no-index "$ROOT"/.whl/*.whl > /tmp/pip_carry.txt 2>&1 || true
fi

"$PY" - > "$WORK/env.json" <<'PYEOF'
import json, torch
from errbound.results import provenance
info = {"cuda_available": torch.cuda.is_available(), "torch": torch.__version__, "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "provenance": provenance()}
try:
    import neuralop
    info["neuralop"] = neuralop.__version__
except ImportError:
    info["neuralop"] = None
print(json.dumps(info, indent=2))
PYEOF
if [ "$DEVICE" = cuda ]; then
    "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU here: this script needs one')"
fi

# 1. GPU unit tests (marked gpu; skipped on CPU machines)
"$PY" -m pytest -q -m gpu tests/test_train_spectral.py tests/test_neuralop.py -p no:cacheprovider > "$WORK/pytest_gpu.txt" 2>&1 || echo "gpu tests failed: see pytest_gpu.txt" >&2

# 2. the benchmark
# shellcheck disable=SC2086
"$PY" -m errbound bench --device "$DEVICE" --res "$BENCH_RES" --precisions full,amp,mixed,half --backend dft,fft \
    $BENCH_MODEL --warmup 3 --steps "$STEPS" --json > "$OUT/bench.json" 2> "$WORK/bench.stderr" \
    || echo "bench failed: see bench.stderr" >&2

# 2b. memory ablation of the CP (TFNO) contraction: pairwise path search vs one naive einsum, half, 256x256
for c in pairwise naive; do
    # shellcheck disable=SC2086
    "$PY" -m errbound bench --device "$DEVICE" --res "$CP_RES" --precisions full,half --backend dft $BENCH_MODEL \
        --factorization cp --rank 0.1 --contraction "$c" --warmup 2 --steps 5 --json \
        > "$OUT/bench_cp_$c.json" 2> "$WORK/bench_cp_$c.stderr" || true
done

# 2c. neuraloperator vs neuraloperator patched with errbound (issue 15); into the log archive ($OUT holds 8 files)
# shellcheck disable=SC2086
"$PY" -m errbound bench --neuralop --device "$DEVICE" --res "${NEURALOP_RES:-256,421,512}" \
    --precisions full,amp,mixed,half --backend dft $BENCH_MODEL --warmup 3 --steps 5 --json \
    > "$WORK/bench_neuralop.json" 2> "$WORK/bench_neuralop.stderr" || echo "bench --neuralop failed: see bench_neuralop.stderr" >&2

# 3. the GPU artefacts of the paper reproduction (issue 14), written as NAME.gpu.{json,png,pdf}
if [ "${REPRO:-1}" = 1 ]; then
    mkdir -p "$WORK/repro/paper_repro/results" "$WORK/repro/figures"
    # shellcheck disable=SC2086
    "$PY" -m errbound repro memory_throughput precision_table error_vs_time pareto --device "$DEVICE" ${REPRO_FLAGS:-} \
        --figures "$WORK/repro/figures" --results "$WORK/repro/paper_repro/results" > "$WORK/repro.txt" 2> "$WORK/repro.stderr" \
        || echo "repro failed: see repro.stderr" >&2
    tar -czf "$OUT/repro_gpu.tar.gz" -C "$WORK/repro" .
fi
# 4. issue 4's GPU validation of the emulator (cuFFT fp16 rfft2 vs emulated, overflow flags), unless skipped
if [ "${PRECISION_CHECK:-1}" = 1 ] && [ "$DEVICE" = cuda ]; then
    "$PY" paper_repro/gpu_precision_check.py --out "$OUT/gpu_precision_check.json" > "$WORK/precision_check.log" 2>&1 \
        || echo "precision check failed: see precision_check.log" >&2
fi
rm -rf "$WORK/repro" "$ERRBOUND_DATA"
tar -czf "$OUT/logs.tar.gz" -C "$WORK" .
echo "done: $(ls "$OUT")"
