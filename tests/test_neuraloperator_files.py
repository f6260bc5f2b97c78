"""neuraloperator's data files as shipped, read by every command through the one loader (errbound.data_io).

The files are built here in neuraloperator's layout: Darcy ``x`` as ``torch.bool`` (train 16x16, test 16x16
and a 32x32 zero-shot test file), Burgers ``x`` (N, 16) with a space-time ``y`` (N, 17, 16). The acceptance
check: ``errbound advise --data <test file>`` and then the ``errbound train`` command it prints, run as printed
plus ``--epochs 1``, both exit 0. The fast test uses 64 train samples (the CPU trainer's time is linear in N);
the slow test uses neuraloperator's counts, 1000 train / 50 test.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.cli import main  # noqa: E402
from errbound.data_io import load_samples, load_xy, train_command  # noqa: E402
from errbound.errors import ErrboundError  # noqa: E402


def _field(rng: np.random.Generator, n: int, s: int) -> np.ndarray:
    """Smooth periodic random fields (spectral amplitude (1 + |k|^2)^-1.5), shape (n, s, s)."""
    k = np.fft.fftfreq(s) * s
    amp = (1 + k[:, None] ** 2 + k[None, :] ** 2) ** -1.5
    z = rng.standard_normal((n, s, s)) + 1j * rng.standard_normal((n, s, s))
    return np.fft.ifft2(z * amp).real * s


def _lowpass(x: np.ndarray) -> np.ndarray:
    k = np.fft.fftfreq(x.shape[-1]) * x.shape[-1]
    return np.fft.ifft2(np.fft.fft2(x) * np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / 16)).real


def make_neuraloperator_files(folder: Path, n_train: int, n_test: int, n_burgers_train: int) -> Path:
    rng = np.random.default_rng(12)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, s in (("train", n_train, 16), ("test", n_test, 16), ("test", n_test, 32)):
        x = _field(rng, n, s) > 0  # thresholded coefficient, stored as bool like neuraloperator's darcy files
        # a smooth positive response (like Darcy's u, never identically zero: relative errors need |y| > 0)
        y = (0.1 * _lowpass(x.astype(float)) + 0.05).astype(np.float32)
        torch.save({"x": torch.from_numpy(x), "y": torch.from_numpy(y)}, folder / f"darcy_{split}_{s}.pt")
    for split, n in (("train", n_burgers_train), ("test", n_test)):
        x = _field(rng, n, 16)[:, 0, :].astype(np.float32)
        y = np.stack([x * np.exp(-0.1 * t) for t in range(17)], axis=1)  # (N, 17, 16) space-time
        torch.save({"x": torch.from_numpy(x), "y": torch.from_numpy(y)}, folder / f"burgers_{split}_16.pt")
    return folder


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_neuraloperator_files(tmp_path_factory.mktemp("no_small"), 64, 50, 64)


def _advise_then_train(folder: Path, test_file: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["advise", "--data", str(folder / test_file)]) == 0
    out = capsys.readouterr().out
    commands = [line.strip() for line in out.splitlines() if line.strip().startswith("errbound train ")]
    assert len(commands) == 1, out
    argv = shlex.split(commands[0])[1:]
    assert main([*argv, "--epochs", "1", "--device", "cpu", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert all(math.isfinite(v) for v in summary["test_l2"].values()), summary["test_l2"]
    return commands[0], summary


@pytest.mark.parametrize("test_file", ["darcy_test_16.pt", "darcy_test_32.pt", "burgers_test_16.pt"])
def test_advise_then_printed_train_command_runs(small_files: Path, test_file: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    command, trained = _advise_then_train(small_files, test_file, capsys)  # trained: the --json summary
    if test_file == "darcy_test_32.pt":  # no train file at 32: trains at 16, tests zero-shot at 32
        assert "--res 16 --test-res 16,32" in command
    if test_file.startswith("burgers"):
        assert "--target-time last" in command
    assert trained["epochs"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("test_file", ["darcy_test_16.pt", "darcy_test_32.pt", "burgers_test_16.pt"])
def test_neuraloperator_counts(tmp_path_factory: pytest.TempPathFactory, test_file: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path_factory.getbasetemp() / "no_full"
    if not (folder / "burgers_test_16.pt").exists():
        make_neuraloperator_files(folder, 1000, 50, 800)
    _advise_then_train(folder, test_file, capsys)


def test_bool_and_counts_read_from_files(small_files: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fresh = tmp_path / "darcy_train_16.pt"  # a path no other test has read: the note is said once per file
    fresh.write_bytes((small_files / "darcy_train_16.pt").read_bytes())
    x, y = load_xy(fresh)
    assert x.dtype == np.float64 and set(np.unique(x)) <= {0.0, 1.0} and x.shape == (64, 16, 16)
    assert "bool; read as float" in capsys.readouterr().err
    load_xy(fresh)
    assert capsys.readouterr().err == ""
    with pytest.raises(ErrboundError, match="space-time.*--target-time last"):
        load_xy(small_files / "burgers_train_16.pt")
    _, y = load_xy(small_files / "burgers_train_16.pt", target_time="last")
    assert y.shape == (64, 16)


def test_grid_must_match_the_name(tmp_path: Path) -> None:
    x = torch.zeros(4, 8, 8)
    torch.save({"x": x, "y": x}, tmp_path / "darcy_train_16.pt")
    with pytest.raises(ErrboundError, match="says resolution 16 but it holds a 8x8 grid"):
        load_xy(tmp_path / "darcy_train_16.pt")
    with pytest.raises(ErrboundError, match="says resolution 16"):
        load_samples(tmp_path / "darcy_train_16.pt")
    assert main(["train", "--data", str(tmp_path), "--dataset", "darcy", "--res", "16", "--epochs", "1"]) == 2


def test_single_2d_array_needs_a_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "f.npy", np.random.default_rng(0).standard_normal((32, 32)))
    with pytest.raises(ErrboundError, match="ambiguous; pass --sample-axis none"):
        load_samples(tmp_path / "f.npy")
    assert load_samples(tmp_path / "f.npy", sample_axis="none").shape == (1, 32, 32)
    assert "one 2-D field" in capsys.readouterr().err
    assert load_samples(tmp_path / "f.npy", sample_axis="0").shape == (32, 32)
    np.save(tmp_path / "g.npy", np.zeros((4, 32)))
    assert load_samples(tmp_path / "g.npy").shape == (4, 32)
    assert "4 samples of a 32-point 1-D signal" in capsys.readouterr().err


def test_bool_npy_accepted_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "b.npy", np.random.default_rng(1).random((3, 16, 16)) > 0.5)
    assert main(["precision", "--data", str(tmp_path / "b.npy"), "--format", "bf16", "--modes", "4"]) == 0
    assert "bool; read as float" in capsys.readouterr().err


def test_train_command_without_any_train_file(tmp_path: Path) -> None:
    command, reason = train_command(tmp_path / "darcy_test_32.pt", ["--precision", "full"])
    assert command is None and "no darcy_train_*.pt" in reason


def test_identically_zero_targets_are_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = torch.ones(3, 8, 8)
    y = torch.ones(3, 8, 8)
    y[1] = 0.0  # relative L2 of this sample is 0/0: the trainer's loss and metrics would be inf
    torch.save({"x": x, "y": y}, tmp_path / "toy_train_8.pt")
    load_xy(tmp_path / "toy_train_8.pt")
    assert "1 of 3 samples have y identically 0" in capsys.readouterr().err
