"""Trainer: resume reproduces an uninterrupted run, non-finite guard, schedules, fallback, errors."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.train import FNOConfig, TrainConfig, Trainer, parse_policy, parse_schedule  # noqa: E402
from errbound.train.trainer import resolve_device  # noqa: E402

MODEL = FNOConfig(hidden=6, modes=(6, 6), n_layers=2)


def _data(n=24, res=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, res, res, generator=g)
    y = torch.roll(x, 1, -1) + 0.5 * x**2
    return (x, y), {res: (x[:8].clone(), y[:8].clone())}


def _params(trainer):
    return {k: v.clone() for k, v in trainer.net.state_dict().items()}


def test_resume_after_interruption_reaches_the_same_weights(tmp_path):
    train, test = _data()
    config = TrainConfig(epochs=4, batch_size=8, seed=3, scheduler="step", step_size=2)
    full = Trainer(MODEL, config, train, test, out_dir=tmp_path / "a", show_progress=False)
    full.fit()

    class Interrupt(Exception):
        pass

    def stop_after_two(trainer, row):
        if row["epoch"] == 2:
            raise Interrupt

    first = Trainer(MODEL, config, train, test, out_dir=tmp_path / "b", show_progress=False)
    with pytest.raises(Interrupt):
        first.fit(callbacks=[stop_after_two])
    torch.manual_seed(12345)  # a resumed process starts from unrelated RNG state: the checkpoint restores it
    resumed = Trainer(MODEL, config, train, test, out_dir=tmp_path / "b", resume=True, show_progress=False)
    assert resumed.epoch == 2
    resumed.fit()
    a, b = _params(full), _params(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bitwise equal (CPU, fp32)
    assert resumed.optimizer.param_groups[0]["lr"] == full.optimizer.param_groups[0]["lr"]
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_missing_checkpoint_is_an_error(tmp_path):
    train, test = _data()
    with pytest.raises(ErrboundError, match="no checkpoint"):
        Trainer(MODEL, TrainConfig(epochs=1), train, test, out_dir=tmp_path, resume=True)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    train, test = _data()
    Trainer(MODEL, TrainConfig(epochs=1, batch_size=8), train, test, out_dir=tmp_path, show_progress=False).fit()
    other = FNOConfig(hidden=8, modes=(6, 6), n_layers=2)
    with pytest.raises(ErrboundError, match="different model"):
        Trainer(other, TrainConfig(epochs=2, batch_size=8), train, test, out_dir=tmp_path, resume=True)


@pytest.mark.parametrize("precision", ["full", "half"])  # half: fp16 with GradScaler (dft backend on CPU)
def test_nonfinite_guard_skips_a_planted_inf_step(precision):
    train, test = _data()
    model = FNOConfig(hidden=6, modes=(6, 6), n_layers=2, backend="dft")
    config = TrainConfig(epochs=1, batch_size=8, schedule=((0, parse_policy(precision)),), normalize=False)
    trainer = Trainer(model, config, train, test, show_progress=False)
    xb, yb = train[0][:8].unsqueeze(1).clone(), train[1][:8].unsqueeze(1)
    before = _params(trainer)
    bad = xb.clone()
    bad[3, 0, 2, 2] = float("inf")
    loss, taken = trainer.train_step(bad, yb)
    assert not taken and trainer.nonfinite_steps == 1
    after = _params(trainer)
    assert all(torch.equal(before[k], after[k]) for k in before)  # skipped: no update at all
    loss, taken = trainer.train_step(xb, yb)
    assert taken and trainer.nonfinite_steps == 1
    assert any(not torch.equal(before[k], v) for k, v in _params(trainer).items())  # a good step updates


def test_grad_scaler_overflow_is_not_a_nonfinite_event():
    train, test = _data()
    model = FNOConfig(hidden=6, modes=(6, 6), n_layers=2, backend="dft")
    config = TrainConfig(epochs=1, batch_size=8, schedule=((0, parse_policy("half")),), fallback_after=1)
    trainer = Trainer(model, config, train, test, show_progress=False)
    xb, yb = train[0][:8].unsqueeze(1), train[1][:8].unsqueeze(1)
    assert trainer.train_step(xb, yb)[1]
    trainer.scaler.update(new_scale=2.0**100)  # fp16 gradients times 2^100 overflow: scaled grads are inf
    before = _params(trainer)
    loss, taken = trainer.train_step(xb, yb)
    assert not taken and trainer.scaler_skips == 1 and trainer.nonfinite_steps == 0
    assert trainer.scaler.get_scale() < 2.0**100  # the scaler backed off
    assert trainer.policy.mode == "half"  # calibration never triggers the precision fallback
    assert all(torch.equal(before[k], v) for k, v in _params(trainer).items())


def test_inf_sample_in_the_data_is_skipped_every_epoch():
    (x, y), test = _data()
    x = x.clone()
    x[5, 0, 0] = float("inf")
    config = TrainConfig(epochs=2, batch_size=8, normalize=False)
    result = Trainer(MODEL, config, (x, y), test, show_progress=False).fit()
    assert result.nonfinite_steps == 2  # one poisoned batch per epoch
    assert all(torch.isfinite(torch.tensor(v)) for v in result.test_l2.values())


def test_fallback_to_safer_precision_after_n_events():
    train, test = _data()
    model = FNOConfig(hidden=6, modes=(6, 6), n_layers=2, backend="dft")
    config = TrainConfig(epochs=1, batch_size=8, schedule=((0, parse_policy("half-bf16")),), fallback_after=2,
                         normalize=False)
    trainer = Trainer(model, config, train, test, show_progress=False)
    bad = train[0][:8].unsqueeze(1).clone()
    bad[0, 0, 0, 0] = float("nan")
    yb = train[1][:8].unsqueeze(1)
    trainer.train_step(bad, yb)
    assert trainer.policy.mode == "half"
    trainer.train_step(bad, yb)
    assert trainer.policy.mode == "mixed" and trainer.net.model.policy.mode == "mixed"


def test_precision_schedule_switches_at_the_given_epochs():
    train, test = _data()
    model = FNOConfig(hidden=6, modes=(6, 6), n_layers=2, backend="dft")
    config = TrainConfig(epochs=3, batch_size=8, schedule=parse_schedule("half-bf16+tanh:0,mixed-bf16+none:1,full:2"))
    result = Trainer(model, config, train, test, show_progress=False).fit()
    assert [r["precision"] for r in result.history] == ["half-bf16+tanh", "mixed-bf16", "full"]
    assert result.final_precision == "full"


def test_training_reduces_the_loss_and_reports_throughput():
    # band-limited inputs (frequencies the model keeps) and a translation: exactly representable by one layer
    g = torch.Generator().manual_seed(0)
    n, res = 32, 12
    c = torch.zeros(n, res, res // 2 + 1, dtype=torch.complex64)
    c[:, :3, :3] = torch.randn(n, 3, 3, dtype=torch.complex64, generator=g)
    c[:, -2:, :3] = torch.randn(n, 2, 3, dtype=torch.complex64, generator=g)
    x = torch.fft.irfft2(c, s=(res, res), norm="forward")
    y = torch.roll(x, 1, -1)
    config = TrainConfig(epochs=6, batch_size=8, lr=1e-2, scheduler="none")
    result = Trainer(MODEL, config, (x, y), {res: (x[:8], y[:8])}, show_progress=False).fit()
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.6 * losses[0]  # measured 1.00 -> 0.36 with this seed; a broken step would stay at ~1
    assert result.samples_per_s > 0 and result.peak_mem_mib is None  # no CUDA: no peak memory


def test_bad_inputs():
    train, test = _data()
    with pytest.raises(ErrboundError, match="CUDA"):
        resolve_device("cuda") if not torch.cuda.is_available() else (_ for _ in ()).throw(ErrboundError("CUDA"))
    with pytest.raises(ErrboundError):
        TrainConfig(epochs=0)
    with pytest.raises(ErrboundError):
        TrainConfig(schedule=((1, parse_policy("half")),))
    with pytest.raises(ErrboundError, match="power-of-two"):
        Trainer(FNOConfig(hidden=4, modes=(6, 6), n_layers=1), TrainConfig(schedule=((0, parse_policy("half")),)),
                train, test)
    with pytest.raises(ErrboundError, match="channels"):
        Trainer(FNOConfig(in_channels=2, hidden=4, modes=(6, 6)), TrainConfig(), train, test)
