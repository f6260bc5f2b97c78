"""Reproduce the paper's figures and tables (``errbound repro NAME | --all [--quick]``).

One module per artefact (see :data:`paper_repro._runner.ARTEFACTS`); each is runnable alone as
``python -m paper_repro.NAME [--quick] [--device cpu|cuda]``. The paper's numbers printed beside ours live
in :mod:`paper_repro.paper_numbers`. Details: docs/reproduction.md.
"""

from paper_repro._runner import ARTEFACTS as ARTEFACTS
from paper_repro._runner import Context as Context
from paper_repro._runner import run_all as run_all
from paper_repro._runner import run_artefact as run_artefact

__all__ = ["ARTEFACTS", "Context", "run_all", "run_artefact"]
