"""Loading user data: .npy, .npz, .pt layouts and every bad-input case gives a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from errbound.data_io import load_samples, validate_samples
from errbound.errors import ErrboundError


def test_npy_npz_roundtrip(tmp_path):
    x = np.random.default_rng(0).standard_normal((3, 16, 16)).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    np.savez(tmp_path / "b.npz", x=x, y=2 * x)
    np.savez(tmp_path / "c.npz", only=x)
    for path, key in ((tmp_path / "a.npy", None), (tmp_path / "b.npz", None), (tmp_path / "c.npz", None)):
        got = load_samples(path, key=key)
        assert got.dtype == np.float64 and got.shape == (3, 16, 16)
        np.testing.assert_array_equal(got, x.astype(np.float64))  # float32 -> float64 is exact
    np.testing.assert_array_equal(load_samples(tmp_path / "b.npz", key="y"), 2 * x.astype(np.float64))


def test_pt_layout(tmp_path):
    torch = pytest.importorskip("torch")
    x = torch.randn(2, 8, 8)
    torch.save({"x": x, "y": x * 3}, tmp_path / "d_train_8.pt")
    got = load_samples(tmp_path / "d_train_8.pt")
    np.testing.assert_array_equal(got, x.double().numpy())
    np.testing.assert_array_equal(load_samples(tmp_path / "d_train_8.pt", key="y"), (x * 3).double().numpy())
    with pytest.raises(ErrboundError, match="holds keys"):
        load_samples(tmp_path / "d_train_8.pt", key="z")


def test_pt_without_torch(tmp_path, monkeypatch):
    import builtins

    (tmp_path / "e.pt").write_bytes(b"not really")
    real_import = builtins.__import__

    def fake(name, *a, **k):
        if name == "torch":
            raise ImportError("no torch")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ErrboundError, match="torch"):
        load_samples(tmp_path / "e.pt")


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: np.save(p, np.zeros((0, 8, 8))), "no samples"),
        (lambda p: np.save(p, np.zeros(8)), "rank 1"),
        (lambda p: np.save(p, np.zeros((1, 2, 2, 2, 2))), "rank 5"),
        (lambda p: np.save(p, np.array([[1.0, np.nan]])), "NaN/inf"),
        (lambda p: np.save(p, np.array([[1.0, np.inf]])), "NaN/inf"),
        (lambda p: np.save(p, np.ones((1, 4), dtype=complex)), "complex"),
        (lambda p: p.write_bytes(b"garbage, not an array"), "cannot read"),
    ],
)
def test_bad_files(tmp_path, make, match):
    path = tmp_path / "bad.npy"
    make(path)
    with pytest.raises(ErrboundError, match=match):
        load_samples(path)


def test_other_errors(tmp_path):
    with pytest.raises(ErrboundError, match="does not exist"):
        load_samples(tmp_path / "missing.npy")
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(ErrboundError, match="suffix"):
        load_samples(tmp_path / "x.csv")
    np.save(tmp_path / "s.npy", np.zeros((1, 12, 12)))
    with pytest.raises(ErrboundError, match="too small for 8 modes"):
        load_samples(tmp_path / "s.npy", modes=8)
    with pytest.raises(ErrboundError, match="expected 1 grid axes"):
        load_samples(tmp_path / "s.npy", dim=1)
    np.savez(tmp_path / "m.npz", a=np.zeros((1, 4)), b=np.zeros((1, 4)))
    with pytest.raises(ErrboundError, match="choose one with --key"):
        load_samples(tmp_path / "m.npz")
    with pytest.raises(ErrboundError, match="real numbers"):
        validate_samples(np.array([["a"]]))
