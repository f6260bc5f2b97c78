"""Precision policies: parsing at the boundary, validation, derived properties."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.train.precision import (  # noqa: E402
    FULL, PRECISION_NAMES, SAFER, STABILIZER_KINDS, PrecisionPolicy, Stabilizer, parse_precision, parse_schedule,
)


@pytest.mark.parametrize("name", PRECISION_NAMES)
def test_named_policies_round_trip(name):
    policy = parse_precision(name)
    assert policy.name == name
    assert parse_precision(policy.name) == policy


@pytest.mark.parametrize("kind", STABILIZER_KINDS)
@pytest.mark.parametrize("mode", ["mixed", "half", "half-bf16"])
def test_stabilizer_suffix_round_trips(mode, kind):
    policy = parse_precision(f"{mode}+{kind}")
    assert policy.stabilizer.kind == kind
    assert parse_precision(policy.name) == policy


def test_defaults_and_scaler_rules():
    assert parse_precision("half").stabilizer.kind == "pow2"  # exact stabilizer by default for fp16
    assert parse_precision("half-bf16").stabilizer.kind == "none"
    assert parse_precision("half").needs_grad_scaler and parse_precision("amp").needs_grad_scaler
    assert not parse_precision("half-bf16").needs_grad_scaler  # never a scaler for bf16
    assert not FULL.needs_grad_scaler and not FULL.autocast
    assert parse_precision("amp").autocast and not parse_precision("amp").block_half
    assert parse_precision("mixed-bf16").torch_half_dtype == torch.bfloat16


@pytest.mark.parametrize("bad", ["hlaf", "full-bf16", "half+tan", "", "half-fp8", "mixed+"])
def test_bad_precision_strings_are_rejected_with_the_choices(bad):
    with pytest.raises(ErrboundError) as info:
        parse_precision(bad)
    assert "choose one of" in str(info.value)


def test_policy_invariants_checked_at_construction():
    with pytest.raises(ErrboundError):
        PrecisionPolicy(block="fulll")
    with pytest.raises(ErrboundError):
        PrecisionPolicy(block="amp", stabilizer=Stabilizer(kind="tanh"))
    with pytest.raises(ErrboundError):
        Stabilizer(kind="clip", bound=-1.0)
    with pytest.raises(ErrboundError):
        PrecisionPolicy(block="half", stabilizer="tanh")  # strings are not policies


def test_policies_are_hashable_and_frozen():
    p = parse_precision("half+tanh")
    assert len({p, parse_precision("half+tanh")}) == 1
    with pytest.raises(AttributeError):
        p.block = "full"  # type: ignore[misc]


def test_safer_chain_ends_at_full():
    p, seen = parse_precision("half"), []
    while p != FULL:
        seen.append(p.block)
        p = SAFER(p)
    assert seen == ["half", "mixed", "amp"]


def test_schedule_parsing():
    sched = parse_schedule("full:375,half:0,mixed+none:125", epochs=500)
    assert [e for e, _ in sched] == [0, 125, 375]
    assert sched[1][1].stabilizer.kind == "none" and sched[2][1] == FULL
    for bad in ["half:5", "half:0,full:0", "half", "half:x", "half:0,full:600"]:
        with pytest.raises(ErrboundError):
            parse_schedule(bad, epochs=500)
