"""The advisor handles the data it exists to flag: values beyond a format's range are an overflow with a fix,
values below it an underflow, never 'bad data' (one-specification issue; real-users'-data issue, item 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from errbound.advise import advise
from errbound.cli import main


def _noise(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((4, 32, 32))


def test_one_entry_beyond_fp16_is_an_overflow_with_its_pow2_fix():
    x = _noise()
    x[0, 3, 3] = 66000.0  # finite data; the fp16 input cast of this entry is inf
    adv = advise(x, formats=["fp16", "bf16"])
    for c in adv.candidates:
        if c.precision == "half":  # fft and dft: the input is cast to fp16
            assert c.overflow and c.fix["kind"] == "pow2" and c.fix["exponent"] < 0 and c.fix["removes_overflow"]
            assert np.isfinite(c.prec_err) and c.prec_err < 0.01  # fp16-sized error once pre-scaled
        if c.format == "bf16" or c.precision == "full":
            assert not c.overflow  # bf16 and fp32 have fp32's exponent range


def test_data_of_magnitude_1e6_is_flagged_and_exits_0(tmp_path, capsys):
    """A block output near 1e6 cannot be an fp16 value: the pow2 pre-scale keeps the transforms in range but
    not the output, so the advisor says so and falls back to tanh (which changes the function)."""
    x = 1e6 * (1.0 + 0.1 * _noise())
    np.save(tmp_path / "big.npy", x)
    assert main(["advise", "--data", str(tmp_path / "big.npy"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fp16 = [c for c in doc["candidates"] if c["format"] == "fp16"]
    assert fp16 and all(c["overflow"] for c in fp16)
    assert all(c["fix"]["kind"] == "tanh" and "output exceeds" in c["fix"]["note"] for c in fp16)
    assert doc["recommended"]["format"] in ("bf16", "fp32")


def test_data_of_magnitude_1e_300_reports_its_underflow():
    x = 1e-300 * _noise()
    adv = advise(x, formats=["fp16", "bf16"])
    for c in adv.candidates:
        assert c.underflow == 1.0  # every value below fp16's, bf16's and fp32's smallest subnormal
        assert c.prec_err == pytest.approx(1.0)  # the block output is all zeros: relative error 1, not 0/0
        assert not c.ok
