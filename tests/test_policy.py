"""The one precision policy (errbound.policy): parsing at the boundary, validation, derived stage formats."""

from __future__ import annotations

import dataclasses

import pytest

from errbound.errors import ErrboundError
from errbound.policy import (
    ALIASES, FULL, PRECISION_NAMES, STABILIZERS, Policy, Stabilizer, make_policy, parse_policy, parse_schedule,
    parse_stabilizer, safer_policy,
)


@pytest.mark.parametrize("backend", ["fft", "dft"])
@pytest.mark.parametrize("name", PRECISION_NAMES)
def test_named_policies_round_trip(name, backend):
    policy = parse_policy(name, backend)
    assert policy.name == name and policy.backend == backend
    assert parse_policy(policy.name, backend=policy.backend) == policy


@pytest.mark.parametrize("kind", STABILIZERS)
@pytest.mark.parametrize("mode", ["mixed", "half", "half-bf16"])
def test_stabilizer_suffix_round_trips(mode, kind):
    policy = parse_policy(f"{mode}+{kind}")
    assert policy.stabilizer.kind == kind
    assert parse_policy(policy.name) == policy


def test_stage_formats_of_the_presets():
    """What each named policy computes, stage by stage (docs/precision.md table)."""
    half, mixed, full = parse_policy("half"), parse_policy("mixed-bf16"), FULL
    assert [f.name for f in (half.input_fmt, half.forward.fmt, half.contraction.input_fmt, half.inverse.fmt)] == ["fp16"] * 4
    assert half.contraction.acc_fmt.name == "fp32" and half.contraction.product_fmt is None
    assert mixed.input_fmt.name == "fp32" and mixed.forward.fmt.name == "fp32" and mixed.spectrum_fmt.name == "bf16"
    assert mixed.inverse.fmt.name == "bf16"
    assert full.contraction.product_fmt.name == "fp32" and not full.block_half and full.autocast_dtype is None
    dft = parse_policy("half", "dft")
    assert dft.forward.kind == "dft" and dft.forward.acc_fmt.name == "fp32" and dft.forward.out_fmt.name == "fp16"
    e4 = parse_policy("half-fp8e4m3fn", "dft")
    assert e4.input_fmt.name == "t4emax8emin-6_noinf_rt1_sat" and e4.autocast_dtype == "bf16" and e4.fp8_block


def test_aliases_parse_into_the_same_objects():
    for alias, (name, backend) in ALIASES.items():
        assert parse_policy(alias) == parse_policy(name, backend)
    assert parse_stabilizer("prescale") == Stabilizer(kind="pow2")
    assert parse_stabilizer("std_clip") == Stabilizer(kind="sigma2")
    assert parse_policy("half", low="bf16") == parse_policy("half-bf16")
    assert parse_policy("half", stabilizer="tanh") == parse_policy("half+tanh")
    custom = parse_policy("half", low="t11emax15")  # an emulator-only low format
    assert custom.low.name == "t11emax15" and parse_policy(custom.name) == custom


def test_defaults_and_scaler_rules():
    assert parse_policy("half").stabilizer.kind == "pow2"  # exact stabilizer by default for fp16
    assert parse_policy("half-bf16").stabilizer.kind == "none"
    assert parse_policy("half").needs_grad_scaler and parse_policy("amp").needs_grad_scaler
    assert not parse_policy("half-bf16").needs_grad_scaler  # never a scaler for bf16
    assert not FULL.needs_grad_scaler and not FULL.autocast
    assert parse_policy("amp").autocast and not parse_policy("amp").block_half


@pytest.mark.parametrize("bad", ["hlaf", "full-bf16", "half+tan", "", "half-fp8", "mixed+", "half-"])
def test_bad_precision_strings_are_rejected_with_the_choices(bad):
    with pytest.raises(ErrboundError) as info:
        parse_policy(bad)
    assert "choose one of" in str(info.value)


def test_unknown_backend_and_stabilizer_list_the_valid_ones():
    with pytest.raises(ErrboundError, match="fft, dft"):
        parse_policy("half", "cufft")
    with pytest.raises(ErrboundError, match="none, tanh, clip, sigma2, pow2"):
        parse_stabilizer("sigmoid")


def test_policy_invariants_checked_at_construction():
    with pytest.raises(ErrboundError):
        make_policy("fulll")
    with pytest.raises(ErrboundError):
        make_policy("amp", stabilizer="tanh")
    with pytest.raises(ErrboundError):
        Stabilizer(kind="clip", bound=-1.0)
    with pytest.raises(ErrboundError, match="Stabilizer"):
        dataclasses.replace(parse_policy("half"), stabilizer="tanh")  # strings are not stabilizers


def test_policies_are_hashable_and_frozen():
    p = parse_policy("half+tanh")
    assert len({p, parse_policy("half+tanh")}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.mode = "full"  # type: ignore[misc]
    assert isinstance(p, Policy)


def test_safer_chain_ends_at_full():
    p, seen = parse_policy("half"), []
    while p != FULL:
        seen.append(p.mode)
        p = safer_policy(p)
    assert seen == ["half", "mixed", "amp"]
    assert safer_policy(parse_policy("half-fp8e4m3fn", "dft")) == parse_policy("amp-bf16", "dft")


def test_schedule_parsing():
    sched = parse_schedule("full:375,half:0,mixed+none:125", epochs=500)
    assert [e for e, _ in sched] == [0, 125, 375]
    assert sched[1][1].stabilizer.kind == "none" and sched[2][1] == FULL
    for bad in ["half:5", "half:0,full:0", "half", "half:x", "half:0,full:600"]:
        with pytest.raises(ErrboundError):
            parse_schedule(bad, epochs=500)
