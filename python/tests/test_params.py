"""Parameters by path: the list of settable fields with their ranges, and
with_values checked as the command line's sweeps check them."""

from __future__ import annotations

import math

import pytest

import northbound as nb


@pytest.fixture(scope="module")
def protocol() -> nb.Scenario:
    return nb.load("scenarios/protocol-2023.toml")


def test_parameters_list_every_settable_path_with_its_value_and_range(protocol):
    params = protocol.parameters()
    rate = params["policy.rcmp_between_ports.detection_rate"]
    assert (rate.value, rate.min, rate.max, rate.integer, rate.bounded) == (0.95, 0.0, 1.0, False, True)
    people = params["population.roxham_flow.people"]
    assert (people.value, people.min, people.integer, people.bounded) == (45000, 1, True, False)
    assert math.isinf(people.max)
    days = params["policy.stca_protocol.claim_within_days"]
    assert (days.value, days.min, days.max, days.integer) == (14, 0, 65000, True)
    per_day = params["population.roxham_flow.per_day"]
    assert per_day.min_exclusive and per_day.min == 0
    assert "behaviour.w_dist" in params
    # Only fields that exist: an STCA has no detection rate, a cohort with
    # per_day departures no daily share.
    assert "policy.stca_protocol.detection_rate" not in params
    assert "population.roxham_flow.daily_depart_share" not in params
    # An unset capacity reads as unlimited.
    assert math.isinf(params["place.montreal.capacity"].value)


def test_with_values_returns_a_new_scenario_with_the_fields_set(protocol):
    changed = protocol.with_values(
        {"policy.rcmp_between_ports.detection_rate": 0.8, "population.roxham_flow.people": 20000.4}
    )
    assert changed.parameters()["policy.rcmp_between_ports.detection_rate"].value == 0.8
    assert changed.cohorts[0].people == 20000  # whole-number fields are rounded
    assert protocol.cohorts[0].people == 45000  # the original is untouched
    assert nb.run(changed).summary["people"] == 20000


def test_an_unknown_path_is_refused_as_the_command_line_refuses_it(cli, protocol):
    with pytest.raises(nb.ParameterError) as info:
        protocol.with_values({"policy.nobody.detection_rate": 0.5})
    assert isinstance(info.value, ValueError)
    err = cli(
        "sweep", "scenarios/protocol-2023.toml", "--param", "policy.nobody.detection_rate=0:1:1", "--quiet", check=False
    )
    assert err.returncode == 2
    assert err.stderr.strip() == f"error: {info.value}"


def test_a_value_out_of_range_is_refused_with_the_valid_range(cli, protocol):
    with pytest.raises(nb.ParameterError, match=r"a probability in \[0, 1\]") as info:
        protocol.with_values({"policy.rcmp_between_ports.detection_rate": 2})
    err = cli(
        "sweep",
        "scenarios/protocol-2023.toml",
        "--param",
        "policy.rcmp_between_ports.detection_rate=0:2:1",
        "--quiet",
        check=False,
    )
    assert err.stderr.strip() == f"error: {info.value}"
    with pytest.raises(nb.ParameterError, match="whole number"):
        protocol.with_values({"population.roxham_flow.people": 0})
    with pytest.raises(nb.ParameterError, match="a number is needed"):
        protocol.with_values({"behaviour.w_dist": "fast"})
    with pytest.raises(nb.ParameterError, match="finite"):
        protocol.with_values({"behaviour.w_dist": float("nan")})


def test_variants_and_scale_give_new_scenarios(protocol):
    suspended = protocol.variant("stca_suspended")
    assert [p.id for p in suspended.policies] == ["rcmp_between_ports", "canada_visa"]
    assert suspended.name == "protocol-2023 [stca_suspended]"
    with pytest.raises(ValueError, match="no variant `nope`"):
        protocol.variant("nope")
    half = protocol.scaled(0.5)
    assert half.cohorts[0].people == 22500 and half.cohorts[0].departure["per_day"] == 82.5
    with pytest.raises(ValueError, match="positive"):
        protocol.scaled(0)
