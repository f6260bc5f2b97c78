"""errbound validate: configuration checks (fast) and one small end-to-end run (slow)."""

from __future__ import annotations

import pytest

from errbound.cli import main
from errbound.errors import ErrboundError


def test_config_validation():
    from errbound.validate import ValidateConfig

    with pytest.raises(ErrboundError, match="resolutions"):
        ValidateConfig(resolutions=(4,))
    with pytest.raises(ErrboundError, match="epochs"):
        ValidateConfig(epochs=0)
    with pytest.raises(ErrboundError, match="tolerance"):
        ValidateConfig(tolerance=-1.0)
    with pytest.raises(ErrboundError, match="device"):
        ValidateConfig(device="tpu")


def test_flags_to_policy():
    pytest.importorskip("torch")
    from errbound.validate import flags_to_policy

    policy, backend, modes = flags_to_policy(["--precision", "half-bf16", "--backend", "dft", "--modes", "8"])
    assert (policy.block, policy.half_dtype, backend, modes) == ("half", "bf16", "dft", 8)
    with pytest.raises(ErrboundError, match="no --precision"):
        flags_to_policy(["--backend", "dft"])


@pytest.mark.parametrize("argv, match", [
    (["validate", "--dataset", "cifar"], "unknown dataset"),
    (["validate", "--res", "3x"], "comma-separated list of integers"),
    (["validate", "--res", "4"], "resolutions"),
])
def test_cli_bad_input(argv, match, capsys):
    pytest.importorskip("torch")
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_cuda_without_gpu(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["validate", "--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


@pytest.mark.slow
def test_validate_small_darcy(tmp_path):
    pytest.importorskip("torch")
    from errbound.validate import ValidateConfig, validate

    rep = validate(ValidateConfig(resolutions=(32,), n_train=16, n_test=4, epochs=2, cache_dir=str(tmp_path)))
    block = rep["results"][0]
    roles = {r["role"] for r in block["runs"]}
    assert "full" in roles
    for r in block["runs"]:
        assert r["agree"] == (r["predicted_ok"] == r["observed_safe"])
    assert rep["verdicts"] == len([r for r in block["runs"] if r["role"] != "full"])
