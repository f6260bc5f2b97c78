"""SpectralConv with Tucker weights (neuraloperator's TFNO layout, used by errbound.neuralop): the layer equals
the dense layer holding the reconstructed weight, and gradients reach the core and every factor."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.policy import parse_policy  # noqa: E402
from errbound.train.spectral import SpectralConv  # noqa: E402


@pytest.mark.parametrize("precision", ["full", "half"])
def test_tucker_layer_equals_the_dense_layer_with_the_reconstructed_weight(precision) -> None:
    torch.manual_seed(0)
    policy = parse_policy(precision, "dft")
    tucker = SpectralConv(3, 2, (6, 5), backend="dft", factorization="tucker", rank=(2, 2, 3, 2), policy=policy)
    dense = SpectralConv(3, 2, (6, 5), backend="dft", policy=policy)
    w = tucker.dense_weight().numpy()  # (C_in, C_out, *K) complex
    dense.set_weights(np.moveaxis(w, 0, 1))
    x = torch.randn(2, 3, 12, 10)
    with torch.no_grad():
        a, b = tucker(x), dense(x)
    # full: both contract the same fp32 weight with the same kernels -> equal to fp32 rounding of the weight
    # reconstruction order (1e-6 relative); half: the emulated block of the same fp32 weight -> bit for bit
    if precision == "half":
        assert torch.equal(a, b)
    else:
        assert float((a - b).norm() / b.norm()) < 1e-6
    tucker(x).float().square().sum().backward()
    for p in [tucker.tucker_core, tucker.tucker_in, tucker.tucker_out, *tucker.tucker_modes]:
        assert p.grad is not None and float(p.grad.abs().max()) > 0


def test_tucker_rank_must_name_every_axis() -> None:
    with pytest.raises(ErrboundError, match="Tucker weight needs rank = 4 positive ints"):
        SpectralConv(3, 2, (6, 5), factorization="tucker", rank=0.5)
