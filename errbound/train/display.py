"""What a training run shows on a terminal: a start banner, a bar per epoch, an epoch line, totals.

Everything goes to stderr through :mod:`errbound.progress` (tqdm), only when progress is enabled
(stderr is a terminal or ``ERRBOUND_PROGRESS=1``), and only on rank 0 of a distributed run. The epoch line
carries what neuraloperator prints (train loss, per-resolution test L2/H1) so runs of both can be compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from errbound.progress import NullBar, bar, note

if TYPE_CHECKING:  # pragma: no cover
    from errbound.train.trainer import Trainer

__all__ = ["TrainDisplay", "banner_items", "format_count"]


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
        parts.append(f"{seconds:.3g} s{rate}")
        if row.get("nonfinite_steps"):
            parts.append(f"non-finite steps {row['nonfinite_steps']}")
        note("  ".join(parts), enabled=True)

    def line(self, text: str) -> None:
        if self.enabled:
            note(text, enabled=True)


def banner_items(trainer: "Trainer") -> list[tuple[str, str]]:
    """The start banner of a run: model and parameter count, device, precision, data, optimiser, folder, start."""
    t = trainer
    c, mc = t.config, t.model_config
    sched = (", ".join(f"{p.name} from epoch {e}" for e, p in c.schedule) if len(c.schedule) > 1
             else c.schedule[0][1].name)
    tests = ", ".join(f"{r}: {tuple(x.shape)}" for r, (x, _) in sorted(t.test_data.items()))
    start = "new run" if t.resumed_from is None else (
        f"resuming after epoch {t.epoch}" + (f", batch {t.batch}" if t.batch else ""))
    n = t.n_parameters
    return [
        ("model", f"FNO {mc.dim}-D, hidden {mc.hidden}, modes {mc.modes}, {mc.n_layers} layers, {mc.backend} "
                  f"backend: {format_count(n)} parameters ({n})"),
        ("device", f"{t.device}" + (f" x {t.world} processes" if t.world > 1 else "")),
        ("precision", sched + (f" (policy now {t.policy.name})" if t.policy != c.schedule[0][1] else "")),
        ("data", f"train {tuple(t.x_train.shape)}, test {tests}" + (f" from {t.data_source}" if t.data_source else "")),
        ("optimiser", f"{c.optimizer} lr {c.lr:g} weight decay {c.weight_decay:g}, {c.scheduler} schedule, "
                      f"{c.loss} loss, batch {c.batch_size}, {c.epochs} epochs"),
        ("run folder", str(t.run.path) if t.run is not None else "none (nothing is saved)"),
        ("start", start),
    ]
