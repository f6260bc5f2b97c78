"""The public names of errbound are exactly its re-exports (STYLE habit 11)."""

import types

import errbound


def test_all_matches_public_names() -> None:
    public = {name for name, value in vars(errbound).items() if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert set(errbound.__all__) - {"__version__"} == public
