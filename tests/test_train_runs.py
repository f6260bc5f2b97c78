"""Training runs that survive their users and their machines (issue 13).

Run folders and locks, resume that restores and guards the saved configuration, unusable checkpoints,
disk and permission faults, non-finite runs, Ctrl-C, the terminal display (through a pty), and crash
consistency under injected kills: every resumed run reaches bitwise the weights of an uninterrupted one.
Most tests call ``errbound.cli.main`` in-process (torch is imported once); the few subprocesses run with one
thread. The ten real ``kill -9`` runs are marked ``slow``.
"""

from __future__ import annotations

import errno
import json
import os
import pty
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from errbound.cli import main  # noqa: E402
from errbound.data import dataset_filename, make_dataset, save_pair  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--hidden", "4", "--modes", "4", "--layers", "1", "--batch-size", "8", "--device", "cpu"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one thread is faster, and immune to the spin-waits of an oversubscribed machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    g = torch.Generator().manual_seed(0)
    for split, res, n in (("train", 8, 32), ("test", 8, 8)):
        x = torch.randn(n, res, res, generator=g)
        save_pair(folder / dataset_filename("toy", split, res), x, torch.roll(x, 1, -1) + 0.3 * x**2)
    return folder


def _args(toy, out, epochs=3, *extra):
    return ["train", "--data", str(toy), "--dataset", "toy", "--res", "8", "--n-train", "32", "--n-test", "8",
            "--epochs", str(epochs), "--out", str(out), "--progress", "off", *TINY, *extra]


def _main(args, capsys):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line_error(code, err, *needles):
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("errbound: error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def _weights(folder):
    return torch.load(Path(folder) / "checkpoint.pt", weights_only=False)["model"]


def _assert_consistent(folder, epochs):
    """Checkpoint, metrics.jsonl and summary.json agree; no temporary file is left."""
    folder = Path(folder)
    state = torch.load(folder / "checkpoint.pt", weights_only=False)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert state["epoch"] == epochs and state["batch"] == 0
    assert [r["epoch"] for r in rows] == list(range(1, epochs + 1)) == [r["epoch"] for r in state["history"]]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["epochs"] == epochs and summary["status"] == "finished"
    assert summary["train_loss"] == pytest.approx(rows[-1]["train_loss"], rel=0, abs=0)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []


# -- run folders -------------------------------------------------------------------------------------------
def test_default_run_folders_are_new_and_never_overwritten(toy, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [a for a in _args(toy, "x", 1) if a not in ("--out", "x")]
    assert _main(args, capsys)[0] == 0 and _main(args, capsys)[0] == 0
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["toy_r8_full_001", "toy_r8_full_002"]
    out = tmp_path / "runs" / runs[0]
    before = (out / "summary.json").read_text()
    code, _, err = _main(_args(toy, out, 1), capsys)
    _one_line_error(code, err, str(out), "--resume", "--overwrite")
    assert (out / "summary.json").read_text() == before  # the finished run is untouched
    assert _main(_args(toy, out, 2, "--overwrite"), capsys)[0] == 0
    assert json.loads((out / "summary.json").read_text())["epochs"] == 2


def test_a_locked_run_folder_is_refused_naming_the_holder_and_a_dead_holder_is_stale(toy, tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from errbound.run_folder import RunFolder; "
         "RunFolder(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = _main(_args(toy, out, 1), capsys)
        _one_line_error(code, err, "in use by another process", f"pid {holder.pid}")
    finally:
        holder.kill()  # kill -9: the kernel drops its flock, the lock file stays behind
        holder.wait()
        holder.stdout.close()
    assert (out / ".lock").read_text().startswith(f"pid {holder.pid}")
    assert _main(_args(toy, out, 1), capsys)[0] == 0  # stale lock: taken over


# -- resume ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [["--precision", "half-bf16"], ["--lr", "0.1"], ["--seed", "1"], ["--n-train", "16"]],
                         ids=["precision", "lr", "seed", "n-train"])
def test_resume_refuses_changed_options_and_summary_describes_what_ran(toy, tmp_path, capsys, change):
    out = tmp_path / "run"
    assert _main(_args(toy, out, 2), capsys)[0] == 0
    summary = (out / "summary.json").read_text()
    code, _, err = _main([*_args(toy, out, 2), "--resume", *change], capsys)
    _one_line_error(code, err, change[0], "saved:")
    assert (out / "summary.json").read_text() == summary
    # resume with only the folder restores everything; --epochs may grow
    code, stdout, err = _main(["train", "--out", str(out), "--resume", "--epochs", "3", "--progress", "off", "--json"], capsys)
    assert code == 0, err
    data = json.loads(stdout)
    saved = json.loads((out / "run.json").read_text())["options"]
    assert data["options"] == saved and data["precision"] == "full" and data["train"]["lr"] == 1e-3
    assert data["resumed_from"] == [2, 0] and data["epochs"] == 3 and saved["epochs"] == 3


def test_extending_epochs_continues_the_cosine_of_the_longer_run(toy, tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(_args(toy, out, 2), capsys)[0] == 0
    assert _main(["train", "--out", str(out), "--resume", "--epochs", "4", "--progress", "off"], capsys)[0] == 0
    lrs = [json.loads(line)["lr"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    import math

    planned2 = [1e-3 * 0.5 * (1 + math.cos(math.pi * e / 2)) for e in (1, 2)]
    planned4 = [1e-3 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in (3, 4)]
    assert lrs == pytest.approx(planned2 + planned4, rel=1e-12, abs=1e-18)  # lr after epoch e, closed form
    code, _, err = _main(["train", "--out", str(out), "--resume", "--epochs", "3", "--progress", "off"], capsys)
    _one_line_error(code, err, "already trained 4 epochs")


def test_resume_before_the_first_checkpoint_starts_the_run_and_says_so(toy, tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(_args(toy, out, 1), capsys)[0] == 0
    (out / "checkpoint.pt").unlink()  # as after a kill during the first epoch: run.json only
    (out / "summary.json").unlink()
    (out / "metrics.jsonl").unlink()
    code, _, err = _main(["train", "--out", str(out), "--resume", "--progress", "off"], capsys)
    assert code == 0 and "no checkpoint yet" in err and "starting it from epoch 0" in err
    _assert_consistent(out, 1)
    code, _, err = _main(["train", "--out", str(tmp_path / "nothing"), "--resume"], capsys)
    _one_line_error(code, err, "no checkpoint")


def _damage(kind, path):
    state = torch.load(path, weights_only=False)
    if kind == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return
    if kind == "other-version":
        state["format_version"] = 99
    elif kind == "missing-optimizer":
        del state["optimizer"]
    elif kind == "rng-missing":
        del state["rng"]
    elif kind == "history-not-a-list":
        state["history"] = {"epoch": 1}
    elif kind == "size-mismatch":
        key = next(k for k, v in state["model"].items() if v.dim() >= 2)
        state["model"][key] = torch.zeros(1, 1)
    elif kind == "not-a-dict":
        state = [1, 2, 3]
    torch.save(state, path)


@pytest.mark.parametrize("kind,needle", [
    ("truncated", "truncated or damaged"), ("other-version", "format 99"), ("missing-optimizer", "optimizer"),
    ("rng-missing", "rng"), ("history-not-a-list", "history"), ("size-mismatch", "cannot be restored"),
    ("not-a-dict", "not an errbound checkpoint"),
])
def test_unusable_checkpoints_are_one_line_saying_why(toy, tmp_path, capsys, kind, needle):
    out = tmp_path / "run"
    assert _main(_args(toy, out, 1), capsys)[0] == 0
    _damage(kind, out / "checkpoint.pt")
    code, _, err = _main(["train", "--out", str(out), "--resume", "--epochs", "2"], capsys)
    _one_line_error(code, err, needle, str(out / "checkpoint.pt"))


# -- faults ------------------------------------------------------------------------------------------------
def _cli(args, timeout=120, module=True):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *(["-m", "errbound"] if module else []), *args], capture_output=True,
                          text=True, env=ENV, timeout=timeout)
    return proc, time.perf_counter() - start


@pytest.mark.parametrize("where", ["file", "under-file", "read-only"])
def test_unusable_out_is_one_line_within_two_seconds(tmp_path, where):
    target = tmp_path / "f"
    target.write_text("not a folder")
    out = {"file": target, "under-file": target / "run", "read-only": tmp_path / "ro" / "run"}[where]
    if where == "read-only":
        (tmp_path / "ro").mkdir(mode=0o500)
        if os.geteuid() == 0:  # root writes anywhere: make the folder read-only the hard way, if possible
            pytest.skip("running as root: permissions are not enforced (the check is covered in-process below)")
    proc, seconds = _cli(["-X", "importtime", "-m", "errbound", "train", "--dataset", "darcy", "--res", "16", "--out",
                          str(out), "--cache-dir", str(tmp_path / "cache")], module=False)
    imports = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    _one_line_error(proc.returncode, "\n".join(line for line in proc.stderr.splitlines() if line not in imports), str(out))
    assert not any(line.split("|")[-1].strip() == "torch" for line in imports)  # refused before torch is imported
    assert not (tmp_path / "cache").exists()  # and before any data is generated
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import errbound.cli"], env=ENV, check=True)
    baseline = time.perf_counter() - start  # the interpreter and errbound's own import, on this machine now
    # 2 s is the acceptance bound (0.6 s measured); on an overloaded machine allow three times the baseline
    assert seconds < max(2.0, 3 * baseline), (seconds, baseline)


def test_read_only_out_and_cache_are_refused_before_any_data(tmp_path, monkeypatch, capsys):
    real_access = os.access
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == ro else real_access(p, mode, **kw))
    code, _, err = _main(["train", "--dataset", "darcy", "--res", "16", "--out", str(ro / "run")], capsys)
    _one_line_error(code, err, "is not writable", str(ro))
    code, _, err = _main(["train", "--dataset", "darcy", "--res", "16", "--out", str(tmp_path / "run"),
                          "--cache-dir", str(ro / "cache")], capsys)
    _one_line_error(code, err, "--cache-dir", str(ro))
    monkeypatch.delenv("ERRBOUND_DATA", raising=False)
    monkeypatch.setenv("HOME", str(ro))
    code, _, err = _main(["train", "--dataset", "darcy", "--res", "16", "--out", str(tmp_path / "run")], capsys)
    _one_line_error(code, err, "HOME", "--cache-dir")
    assert not (tmp_path / "run").exists()


def test_disk_full_is_one_line_and_keeps_the_last_good_checkpoint(toy, tmp_path, monkeypatch, capsys):
    import errbound.train.checkpoint as ckpt

    out = tmp_path / "run"
    real_write, calls = ckpt._write_bytes, []

    def full_disk(path, data):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint: the disk fills up half way
            Path(path).write_bytes(bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, data)

    monkeypatch.setattr(ckpt, "_write_bytes", full_disk)
    code, _, err = _main(_args(toy, out, 3), capsys)
    _one_line_error(code, err, "No space left on device", "last good checkpoint", "intact")
    monkeypatch.setattr(ckpt, "_write_bytes", real_write)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 1  # epoch 1's commit point, unharmed
    assert [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []
    assert _main(["train", "--out", str(out), "--resume", "--progress", "off"], capsys)[0] == 0
    _assert_consistent(out, 3)


def _tmpfs(path, size):
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return proc.returncode == 0


def test_a_real_full_disk_small_tmpfs(toy, tmp_path, capsys):
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not _tmpfs(disk, "256k"):
        pytest.skip("cannot mount a tmpfs here (the fault-injected test above covers the same path)")
    try:
        out = disk / "run"
        code, _, err = _main(_args(toy, out, 2, "--hidden", "24"), capsys)  # ~150 KB checkpoint: the second cannot fit
        _one_line_error(code, err, "No space left on device")
        assert torch.load(out / "checkpoint.pt", weights_only=False)["epoch"] == 1
        assert [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_all_steps_nonfinite_fails_and_degenerate_data_is_warned(tmp_path, capsys):
    folder = tmp_path / "data"
    x = torch.randn(16, 8, 8) * 1e30
    for split in ("train", "test"):
        save_pair(folder / dataset_filename("big", split, 8), x, x)
    code, _, err = _main(["train", "--data", str(folder), "--dataset", "big", "--res", "8", "--n-train", "16",
                          "--n-test", "4", "--epochs", "1", "--out", str(tmp_path / "a"), "--progress", "off", *TINY], capsys)
    assert code == 1 and "warning: the training input reaches" in err and "every training step was non-finite" in err
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["status"] == "failed"
    const = tmp_path / "const"
    for split in ("train", "test"):
        save_pair(const / dataset_filename("c", split, 8), torch.ones(16, 8, 8), torch.randn(16, 8, 8))
    code, _, err = _main(["train", "--data", str(const), "--dataset", "c", "--res", "8", "--n-train", "16",
                          "--n-test", "4", "--epochs", "1", "--out", str(tmp_path / "b"), "--progress", "off", *TINY], capsys)
    assert "warning: the training input is constant" in err


# -- crash consistency -------------------------------------------------------------------------------------
class SimulatedKill(BaseException):
    """Stands for kill -9: nothing in errbound catches it (BaseException, not Exception)."""


def _resume_until_done(toy, out, epochs, capsys):
    for _ in range(40):
        code, _, err = _main(["train", "--out", str(out), "--resume", "--progress", "off"] if (out / "run.json").exists()
                             else _args(toy, out, epochs), capsys)
        if code == 0:
            return
        raise AssertionError(err)


def test_fault_injection_kills_at_random_steps_and_at_every_rename(toy, tmp_path, monkeypatch, capsys):
    import errbound.results as results
    from errbound.train.trainer import Trainer

    epochs = 3
    ref = tmp_path / "ref"
    assert _main(_args(toy, ref, epochs), capsys)[0] == 0
    want = _weights(ref)

    real_step, real_replace = Trainer.train_step, os.replace
    rng = random.Random(13)
    n_steps = epochs * 4  # 32 samples, batch 8
    kills = sorted(rng.sample(range(1, n_steps + 1), 10))
    for i, kill_at in enumerate(kills):  # ten kills at random steps (one per run)
        out, count = tmp_path / f"step{i}", [0]

        def step(self, xb, yb, _k=kill_at, _c=count):
            _c[0] += 1
            if _c[0] == _k:
                raise SimulatedKill
            return real_step(self, xb, yb)

        monkeypatch.setattr(Trainer, "train_step", step)
        with pytest.raises(SimulatedKill):
            main(_args(toy, out, epochs))
        monkeypatch.setattr(Trainer, "train_step", real_step)
        _resume_until_done(toy, out, epochs, capsys)
        got = _weights(out)
        assert all(torch.equal(want[k], got[k]) for k in want), f"kill at step {kill_at}"
        _assert_consistent(out, epochs)

    renames = [0]  # count the renames of one run, then kill at each of them, leaving the temp file behind
    monkeypatch.setattr(results.os, "replace", lambda a, b: (renames.__setitem__(0, renames[0] + 1), real_replace(a, b)))
    assert _main(_args(toy, tmp_path / "count", epochs), capsys)[0] == 0
    assert renames[0] >= 2 * epochs + 2  # run.json, per epoch checkpoint + metrics, summary
    for k in range(1, renames[0] + 1):
        out, seen = tmp_path / f"rename{k}", [0]

        def replace(a, b, _k=k, _s=seen):
            _s[0] += 1
            if _s[0] == _k:
                raise SimulatedKill
            return real_replace(a, b)

        monkeypatch.setattr(results.os, "replace", replace)
        with pytest.raises(SimulatedKill):
            main(_args(toy, out, epochs))
        monkeypatch.setattr(results.os, "replace", real_replace)
        for name in (".checkpoint.pt.k1ll3d.pt", ".metrics.jsonl.k1ll3d.jsonl", ".summary.json.k1ll3d.json"):
            (out / name).write_bytes(b"half written")  # what kill -9 leaves (the in-process kill ran finally:)
        _resume_until_done(toy, out, epochs, capsys)
        got = _weights(out)
        assert all(torch.equal(want[k2], got[k2]) for k2 in want), f"kill at rename {k}"
        _assert_consistent(out, epochs)


def test_truncated_cache_file_is_regenerated_and_debris_removed(tmp_path):
    files = make_dataset("darcy", 9, 4, 2, seed=1, cache_dir=tmp_path)
    x0 = files.load_train()[0]
    data = files.train_path.read_bytes()
    files.train_path.write_bytes(data[:100])  # truncated
    (files.folder / ".darcy_train_9.pt.abc123.pt").write_bytes(b"x" * 1000)  # a killed writer's temp file
    again = make_dataset("darcy", 9, 4, 2, seed=1, cache_dir=tmp_path)
    assert again.generated and torch.equal(again.load_train()[0], x0)
    assert sorted(p.name for p in files.folder.iterdir() if p.name.startswith(".")) == [".lock"]
    files.train_path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit flipped
    assert make_dataset("darcy", 9, 4, 2, seed=1, cache_dir=tmp_path).generated
    assert not make_dataset("darcy", 9, 4, 2, seed=1, cache_dir=tmp_path).generated  # intact: reused


def _kill9_runs(toy, tmp_path, kills, seed):
    """Real SIGKILLs of subprocess runs, each resumed to the end: ``kills`` lists "start" (a random moment
    after run.json is written: mostly before the first checkpoint) or "mid" (a random moment after the first
    checkpoint)."""
    epochs = 12
    ref = tmp_path / "ref"
    assert main(_args(toy, ref, epochs)) == 0  # in-process, one thread like the subprocesses: the same arithmetic
    want = _weights(ref)
    rng = random.Random(seed)
    for i, when in enumerate(kills):
        out = tmp_path / f"k{i}"
        p = subprocess.Popen([sys.executable, "-m", "errbound", *_args(toy, out, epochs)], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        marker = out / ("run.json" if when == "start" else "checkpoint.pt")
        while not marker.exists() and p.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 1.0 if when == "start" else 0.4))
        p.send_signal(signal.SIGKILL)
        p.wait()
        args = ["train", "--out", str(out), "--resume", "--progress", "off"] if (out / "run.json").exists() \
            else _args(toy, out, epochs)
        proc, _ = _cli(args)
        assert proc.returncode == 0, proc.stderr
        got = _weights(out)
        assert all(torch.equal(want[k], got[k]) for k in want), f"kill {i} ({when})"
        _assert_consistent(out, epochs)


def test_one_real_kill9_resumes_bit_identically(toy, tmp_path):
    _kill9_runs(toy, tmp_path, ["mid"], seed=0)


@pytest.mark.slow
def test_ten_real_kill9_at_random_moments_resume_bit_identically(toy, tmp_path):
    _kill9_runs(toy, tmp_path, ["start", "mid"] * 5, seed=1)


# -- terminal ----------------------------------------------------------------------------------------------
def test_terminal_display_and_ctrl_c_through_a_pty(toy, tmp_path, capsys):
    out = tmp_path / "run"
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))  # a terminal 120 columns wide
    env = {k: v for k, v in ENV.items() if k != "ERRBOUND_PROGRESS"}
    args = [a for a in _args(toy, out, 60) if a not in ("--progress", "off")]
    proc = subprocess.Popen([sys.executable, "-m", "errbound", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    text, sent, deadline = b"", False, time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the pty
                break
            if not chunk:
                break
            text += chunk
        if not sent and b"epoch 2/60 " in text:
            proc.send_signal(signal.SIGINT)
            sent = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=60)
    os.close(master)
    shown = text.decode(errors="replace")
    assert sent, shown[-2000:]
    assert proc.returncode == 130, shown[-2000:]
    for needle in ("errbound train", "parameters", "precision", "run folder", str(out), "start", "new run",
                   "epoch 1/60 ", "train l2", "test@8 l2", "samples/s", "|", "sample"):
        assert needle in shown, (needle, shown[-3000:])
    assert "interrupted by SIGINT" in shown and "Traceback" not in shown
    resume = next(line for line in shown.splitlines() if line.startswith("resume with: "))[len("resume with: "):].split()
    assert resume[:2] == ["errbound", "train"]
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["epoch"] >= 1
    code, _, err = _main([*resume[1:], "--progress", "off", "--epochs", "6"], capsys)
    assert code == 0, err
    _assert_consistent(out, 6)


@pytest.mark.parametrize("command,needles", [
    ("train", ["(default: 16)", "(default: full)", "(default: fft)", "(default: 0.001)", "(default: auto)"]),
    ("bench", ["(default: 4)", "(default: pairwise)", "(default: 2)"]),
    ("verify", ["default"]),
])
def test_help_shows_defaults(command, needles, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for needle in needles:
        assert needle in shown, (needle, shown)


def test_full_disk_while_caching_a_dataset_is_one_line_and_leaves_no_entry(tmp_path, monkeypatch, capsys):
    import collections
    import shutil

    def zip_writer_fails(obj, f, *a, **kw):  # what torch.save raises when the disk fills up mid-write
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 128 vs 0")

    monkeypatch.setattr(torch, "save", zip_writer_fails)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: collections.namedtuple("u", "total used free")(1, 1, 0))
    code, _, err = _main(["train", "--dataset", "darcy", "--res", "9", "--n-train", "4", "--n-test", "2", "--epochs",
                          "1", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "run")], capsys)
    _one_line_error(code, err, "No space left on device", "--cache-dir")
    assert list((tmp_path / "cache").iterdir()) == []  # no half-made cache entry
