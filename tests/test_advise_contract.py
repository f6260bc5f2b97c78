"""The advisor speaks the trainer's language: every candidate's ``prec_err`` is what ``errbound precision
--precision P --backend B --engine E`` reports (``layer_err_rel``) on the same file with the same defaults
(modes, seed, samples), on a generated Darcy file and on a neuraloperator-layout file whose ``x`` is
``torch.bool``; and its ``train_flags`` parse into the same policy."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.cli import main  # noqa: E402
from errbound.policy import parse_policy  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from errbound.data import make_dataset

    folder = tmp_path_factory.mktemp("contract")
    made = make_dataset("darcy", 32, 4, 6, seed=1, cache_dir=str(folder / "cache"), test_res=[32], device="cpu")
    x, y = made.load_test(32)
    torch.save({"x": x, "y": y}, folder / "darcy_test_32.pt")
    rng = np.random.default_rng(0)  # neuraloperator's Darcy layout: x a boolean field, 16x16
    xb = torch.from_numpy(rng.standard_normal((6, 16, 16)).cumsum(1).cumsum(2) > 0)
    torch.save({"x": xb, "y": torch.randn(6, 16, 16)}, folder / "bool_test_16.pt")
    return [folder / "darcy_test_32.pt", folder / "bool_test_16.pt"]


def _json(capsys, argv):
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("which", [0, 1], ids=["darcy", "bool-x"])
def test_every_candidate_prec_err_equals_the_precision_command(files, capsys, which):
    path = str(files[which])
    adv = _json(capsys, ["advise", "--data", path, "--json"])
    assert len(adv["candidates"]) == 7  # full + 3 per format (fp16, bf16)
    for c in adv["candidates"]:
        row = _json(capsys, ["precision", "--data", path, "--precision", c["precision"], "--backend", c["backend"],
                             "--engine", c["engine"], "--json"])["rows"][0]
        assert c["engine"] == "torch"  # torch is installed and every default candidate is trainable
        # the same computation: equal up to the last bits of a float64 norm (1e-9 is the contract's margin)
        assert abs(row["layer_err_rel"] - c["prec_err"]) <= 1e-9 * c["prec_err"], (c, row["layer_err_rel"])
        assert row["modes"] == [adv["modes"]] * len(adv["grid"])
        flags = dict(zip(c["train_flags"][::2], c["train_flags"][1::2]))
        assert parse_policy(flags["--precision"], flags["--backend"]).name == c["precision"]
