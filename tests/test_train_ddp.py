"""Two-process gloo DDP against one process, with plain SGD and per-rank sample ids.

It fails if the ranks do not shard the global batch (the ids of the two ranks must be disjoint halves of the
single process's batch, step by step) or if gradients are summed instead of averaged (plain SGD moves the
weights by lr x gradient, so a summed gradient doubles every step; Adam would hide it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from errbound.data import dataset_filename, save_pair  # noqa: E402

WORKER = Path(__file__).with_name("_ddp_worker.py")
ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str]) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", ERRBOUND_PROGRESS="0", PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_two_process_gloo_ddp_shards_and_averages(tmp_path: Path) -> None:
    data = tmp_path / "toy"
    data.mkdir()
    g = torch.Generator().manual_seed(0)
    for split, n in (("train", 16), ("test", 4)):
        x = torch.randn(n, 8, 8, generator=g)
        save_pair(data / dataset_filename("toy", split, 8), x, torch.roll(x, 1, -1))
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    _run([sys.executable, str(WORKER), str(data), str(single)])
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(WORKER),
          str(data), str(ddp)])

    one = json.loads((single / "ids_rank0.json").read_text())["ids"]
    r0 = json.loads((ddp / "ids_rank0.json").read_text())
    r1 = json.loads((ddp / "ids_rank1.json").read_text())
    assert r0["world"] == r1["world"] == 2
    steps = 0
    for epoch, batches in one.items():
        assert len(r0["ids"][epoch]) == len(r1["ids"][epoch]) == len(batches)
        for full, a, b in zip(batches, r0["ids"][epoch], r1["ids"][epoch]):
            assert not set(a) & set(b), (epoch, a, b)  # each sample on one rank only
            assert sorted(a + b) == sorted(full) and len(a) == len(b) == len(full) // 2
            steps += 1
    assert steps == 8  # 2 epochs x 16 samples / batch 4

    w1 = torch.load(single / "weights.pt", weights_only=True)
    w2 = torch.load(ddp / "weights.pt", weights_only=True)
    moved = max(float((w1["final"][k] - w1["init"][k]).abs().max()) for k in w1["final"])
    # the single run moves the weights by far more than the tolerance, so a doubled step cannot pass
    assert moved > 1e-2
    for key in w1["final"]:
        assert torch.equal(w1["init"][key], w2["init"][key]), key  # same seed, same start
        # same global batch means; only the fp32 order of the all-reduce average differs (~1e-7 relative per
        # step), and 8 plain SGD steps add such differences at most linearly: 1e-5 leaves a wide margin
        assert torch.allclose(w1["final"][key], w2["final"][key], rtol=1e-5, atol=1e-6), key
