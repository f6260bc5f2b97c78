"""Evaluation of a trained FNO: mean relative L2 and H1 errors at each test resolution."""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from errbound.train.losses import H1Loss, LpLoss
from errbound.train.models import FNOConfig
from errbound.policy import Policy
from errbound.train.spectral import check_supported

__all__ = ["autocast_for", "evaluate"]


def autocast_for(policy: Policy, device: torch.device) -> torch.autocast:
    """The autocast context of ``policy`` (disabled for policies that run the outside layers in fp32)."""
    return torch.autocast(device.type, dtype=policy.torch_half_dtype if policy.autocast else None,
                          enabled=policy.autocast)


@torch.no_grad()
def evaluate(
    net: nn.Module,
    test_data: Mapping[int, tuple[torch.Tensor, torch.Tensor]],
    *,
    model_config: FNOConfig,
    policy: Policy,
    device: torch.device,
    batch_size: int,
) -> tuple[dict[int, float], dict[int, float]]:
    """Mean per-sample relative L2 and H1 errors of ``net`` on each test resolution, under ``policy``.

    ``test_data`` maps resolution -> (x, y) with a channel axis; batches of ``batch_size`` are moved to
    ``device``. Errors are summed per sample in float64 (Python floats) and divided by the sample count.
    """
    net.eval()
    d = model_config.dim
    l2, h1 = LpLoss(d=d, reduction="sum"), H1Loss(d=d, reduction="sum")
    out_l2, out_h1 = {}, {}
    for res, (x, y) in sorted(test_data.items()):
        check_supported(policy, model_config.backend, tuple(n + model_config.padding for n in x.shape[2:]),
                        model_config.fft_fallback)
        s2 = sh = 0.0
        for start in range(0, x.shape[0], batch_size):
            xb = x[start:start + batch_size].to(device)
            yb = y[start:start + batch_size].to(device)
            with autocast_for(policy, device):
                pred = net(xb)
            s2 += float(l2(pred, yb))
            sh += float(h1(pred, yb))
        out_l2[res], out_h1[res] = s2 / x.shape[0], sh / x.shape[0]
    return out_l2, out_h1
