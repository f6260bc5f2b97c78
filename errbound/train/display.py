"""What a training run shows on a terminal: a start banner, a bar per epoch, an epoch line, totals.

Everything goes to stderr through :mod:`errbound.progress` (tqdm), only when progress is enabled
(stderr is a terminal or ``ERRBOUND_PROGRESS=1``), and only on rank 0 of a distributed run. The epoch line
carries what neuraloperator prints (train loss, per-resolution test L2/H1) so runs of both can be compared.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from errbound.progress import NullBar, bar, note

__all__ = ["TrainDisplay", "format_count"]


def format_count(n: float) -> str:
    """``1234567 -> '1.23M'``: parameter and sample counts at a glance."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:g}"


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) else str(v)


class TrainDisplay:
    """Terminal display of one :meth:`Trainer.fit <errbound.train.trainer.Trainer.fit>` call."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def banner(self, items: Sequence[tuple[str, str]]) -> None:
        """``errbound train`` followed by one ``key: value`` line per item."""
        if not self.enabled:
            return
        width = max(len(k) for k, _ in items)
        note("errbound train", enabled=True)
        for key, value in items:
            note(f"  {key:<{width}}  {value}", enabled=True)

    def epoch_bar(self, epoch: int, epochs: int, n_samples: int, done: int = 0) -> Any:
        """A bar over the training samples of epoch ``epoch`` (0-based), starting at ``done`` samples."""
        if not self.enabled:
            return NullBar()
        return bar(n_samples, f"epoch {epoch + 1}/{epochs}", unit="sample", initial=done, leave=False, enabled=True)

    def epoch_line(self, row: Mapping[str, Any], epochs: int, seconds: float, samples: int, loss: str) -> None:
        """``epoch 3/20  train h1 0.1234  test@16 l2 0.0567 h1 0.123  lr 0.0079  2.1 s, 480 samples/s``."""
        if not self.enabled:
            return
        parts = [f"epoch {row['epoch']}/{epochs}", f"train {loss} {_num(row['train_loss'])}"]
        for res, value in row.get("test_l2", {}).items():
            parts.append(f"test@{res} l2 {_num(value)} h1 {_num(row['test_h1'][res])}")
        parts.append(f"lr {row['lr']:.3g}")
        rate = f", {samples / seconds:.0f} samples/s" if seconds > 0 else ""
        parts.append(f"{seconds:.1f} s{rate}")
        if row.get("nonfinite_steps"):
            parts.append(f"non-finite steps {row['nonfinite_steps']}")
        note("  ".join(parts), enabled=True)

    def line(self, text: str) -> None:
        if self.enabled:
            note(text, enabled=True)
