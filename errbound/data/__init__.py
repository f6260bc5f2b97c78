"""Offline PDE datasets for operator learning: Darcy flow, Navier-Stokes vorticity, Burgers.

One entry point::

    from errbound.data import make_dataset
    files = make_dataset("darcy", res=64, n_train=1000, n_test=100, seed=0, test_res=[64, 128])
    x_train, y_train = files.load_train()        # float32 tensors (1000, 64, 64)
    x_test, y_test = files.load_test(128)        # the same test functions at 128

Files follow the neuraloperator .pt layout ``{name}_{train|test}_{res}.pt`` = ``{"x": (N, *spatial),
"y": (N, *spatial)}`` in ``files.folder`` (under ``$ERRBOUND_DATA`` or ``~/.cache/errbound/data``).
Recipes, resolution rule and checks: docs/data.md. Importing this package needs neither torch nor
scipy; reading/writing .pt files needs torch (``errbound[train]``).
"""

from errbound.data.grf import eval_neumann as eval_neumann
from errbound.data.grf import eval_periodic as eval_periodic
from errbound.data.grf import grf_neumann as grf_neumann
from errbound.data.grf import grf_torus as grf_torus
from errbound.data.registry import DATASETS as DATASETS
from errbound.data.registry import DatasetFiles as DatasetFiles
from errbound.data.registry import DatasetSpec as DatasetSpec
from errbound.data.registry import dataset_names as dataset_names
from errbound.data.registry import get_dataset as get_dataset
from errbound.data.registry import make_dataset as make_dataset
from errbound.data.storage import dataset_filename as dataset_filename
from errbound.data.storage import default_cache_dir as default_cache_dir
from errbound.data.storage import load_pair as load_pair
from errbound.data.storage import load_split as load_split
from errbound.data.storage import save_pair as save_pair

__all__ = [
    "DATASETS",
    "DatasetFiles",
    "DatasetSpec",
    "dataset_filename",
    "dataset_names",
    "default_cache_dir",
    "eval_neumann",
    "eval_periodic",
    "get_dataset",
    "grf_neumann",
    "grf_torus",
    "load_pair",
    "load_split",
    "make_dataset",
    "save_pair",
]
