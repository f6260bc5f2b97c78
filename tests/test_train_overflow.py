"""CPU training shows the paper's central failure: an fp16 FFT block without a stabilizer overflows.

On a CPU the trainer's fp16 ``fft`` block is the emulated radix-2 transform of :func:`errbound.block.run_block`
(the advisor's arithmetic), so it overflows where cuFFT and the emulator do. The data here is Darcy at 64x64
scaled by 30 and fed without normalisation (``--no-normalize``): its mean is about 200, so the unnormalised DC
coefficient of a 64x64 transform (4096 x mean, and the same order for the lifted hidden channels) is far above
fp16's 65504. ``errbound precision`` on the same file predicts that overflow for ``half+none`` and none for the
default ``half`` (pow2 pre-scale); training agrees: non-finite steps with ``half+none``, none with ``half+pow2``.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from errbound.cli import main  # noqa: E402

SCALE = 30.0


@pytest.fixture(scope="module")
def scaled_darcy(tmp_path_factory):
    from errbound.data import make_dataset

    folder = tmp_path_factory.mktemp("scaled")
    files = make_dataset("darcy", 64, 8, 4, seed=0, cache_dir=str(folder / "cache"), test_res=[64], device="cpu")
    for split, (x, y) in (("train", files.load_train()), ("test", files.load_test(64))):
        torch.save({"x": x * SCALE, "y": y}, folder / f"darcy_{split}_64.pt")
    return folder


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`")
@pytest.mark.parametrize("precision, overflows", [("half+none", True), ("half+pow2", False)])
def test_predicted_and_observed_fp16_overflow_agree(scaled_darcy, tmp_path, capsys, precision, overflows):
    data = scaled_darcy / "darcy_train_64.pt"
    pred = _json(capsys, ["precision", "--data", str(data), "--precision", precision, "--backend", "fft",
                          "--modes", "12", "--json"])
    assert pred["rows"][0]["overflow"] is overflows  # the emulator's prediction
    code = main(["train", "--dataset", "darcy", "--data", str(scaled_darcy), "--res", "64",
                 "--precision", precision, "--backend", "fft", "--device", "cpu", "--no-normalize",
                 "--epochs", "2", "--n-train", "8", "--n-test", "4", "--batch-size", "1", "--hidden", "8",
                 "--modes", "12", "--layers", "2", "--out", str(tmp_path / "run"), "--json"])
    run = json.loads(capsys.readouterr().out)
    # a run whose every step was non-finite exits 1 with the reason; the pow2 run takes steps once GradScaler has
    # backed off from its initial 2^16 (unnormalised data: large fp16 gradients), hence 16 steps of batch 1
    assert code == (1 if overflows else 0)
    assert (run["nonfinite_steps"] > 0) is overflows  # what training met
    assert run["precision"] == precision.replace("+pow2", "")  # half's default stabilizer is pow2
