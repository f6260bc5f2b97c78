"""One process of the DDP test (tests/test_train_ddp.py): run as ``python tests/_ddp_worker.py DATA OUT`` (one
process) or under ``torch.distributed.run`` (several). Trains the tiny FNO with *plain SGD* (an update
proportional to the averaged gradient, unlike Adam, which is invariant to a sum-vs-mean slip), records the
sample ids every rank trains on, and rank 0 saves the final weights."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from errbound.data import load_pair
from errbound.train import FNOConfig, TrainConfig, Trainer

EPOCHS, BATCH, LR = 2, 4, 0.05


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        torch.distributed.init_process_group("gloo")
    train = load_pair(data / "toy_train_8.pt")
    test = load_pair(data / "toy_test_8.pt")
    trainer = Trainer(FNOConfig(hidden=4, modes=(4, 4), n_layers=1),
                      TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=LR, weight_decay=0.0, scheduler="none", seed=0),
                      train, {8: test}, device="cpu", show_progress=False)
    trainer.optimizer = torch.optim.SGD(trainer.net.parameters(), lr=LR)
    trainer.scheduler = torch.optim.lr_scheduler.LambdaLR(trainer.optimizer, lambda _: 1.0)
    init = {k: v.detach().clone() for k, v in trainer.net.state_dict().items()}
    ids = {str(e): [b.tolist() for b in trainer.batches(e)] for e in range(EPOCHS)}
    (out / f"ids_rank{trainer.rank}.json").write_text(json.dumps({"world": trainer.world, "ids": ids}))
    trainer.fit()
    if trainer.rank == 0:
        torch.save({"init": init, "final": trainer.net.state_dict()}, out / "weights.pt")
    if trainer.world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
    # Leave without interpreter teardown: under load, torch 2.13's gloo/background threads have aborted at exit
    # ("terminate called without an active exception") after every result was written; the results are on
    # disk and checked by the test, so the process ends here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
