"""The EMA Workbench adapter: uncertainties and levers by parameter path,
outcomes by output name, numbers equal to direct runs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import northbound as nb

from conftest import needs

PROTOCOL = "scenarios/protocol-2023.toml"
RATE = "policy.rcmp_between_ports.detection_rate"
DAYS = "policy.stca_protocol.claim_within_days"


@pytest.fixture(scope="module")
def ema():
    needs("ema_workbench")
    import northbound.ema

    return northbound.ema


def test_experiments_are_runs_of_the_scenario_with_the_sampled_values(ema):
    from ema_workbench import perform_experiments

    m = ema.model(PROTOCOL, {RATE: (0.5, 1.0), DAYS: (0, 28)}, ["claimed_ca", "claims@lacolle"], variants=True, scale=0.2)
    assert [u.name for u in m.uncertainties] == ["policy_rcmp_between_ports_detection_rate", "policy_stca_protocol_claim_within_days"]
    assert type(m.uncertainties[DAYS.replace(".", "_")]).__name__ == "IntegerParameter"
    assert [o.name for o in m.outcomes] == ["claimed_ca", "claims_at_lacolle"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = perform_experiments(m, scenarios=3, policies=2)
    assert len(experiments) == 6 and set(experiments["variant"]) <= {"base", "stca_suspended", "ports_only"}
    sc = nb.load(PROTOCOL).scaled(0.2)
    for i, row in experiments.iterrows():
        values = {RATE: row["policy_rcmp_between_ports_detection_rate"], DAYS: int(row["policy_stca_protocol_claim_within_days"])}
        direct = sc.with_values(values)
        if row["variant"] != "base":
            direct = direct.variant(row["variant"])
        out = nb.run(direct).outputs.iloc[0]
        assert outcomes["claimed_ca"][i] == out["claimed_ca"]
        assert outcomes["claims_at_lacolle"][i] == out["claims@lacolle"]


def test_replications_use_the_replicate_seeds_and_report_means(ema):
    from ema_workbench import perform_experiments

    m = ema.model(PROTOCOL, [RATE], ["claimed_ca"], replicates=3, scale=0.2)
    assert type(m).__name__ == "ReplicatorModel"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = perform_experiments(m, scenarios=2)
    sc = nb.load(PROTOCOL).scaled(0.2)
    for i, rate in enumerate(experiments["policy_rcmp_between_ports_detection_rate"]):
        # EMA draws what it explores; the scenario's other inputs stay at their values.
        runs = nb.run(sc.with_values({RATE: rate}), replicates=3, fixed_inputs=True)
        assert outcomes["claimed_ca"][i] == pytest.approx(runs.outputs["claimed_ca"].mean())


def test_the_scenarios_marked_inputs_are_the_default_uncertainties(ema):
    sc = nb.load(PROTOCOL)
    marked = {u.path: (u.low, u.high) for u in sc.uncertain if u.path in sc.parameters()}
    assert marked, "protocol-2023 writes some inputs with a range"
    m = ema.model(PROTOCOL)
    assert sorted(u.name for u in m.uncertainties) == sorted(ema.identifier(p) for p in marked)
    for path, (low, high) in marked.items():
        u = m.uncertainties[ema.identifier(path)]
        assert np.isclose(u.lower_bound, low) and np.isclose(u.upper_bound, high)
    with pytest.raises(ValueError, match="marks no uncertain inputs"):
        ema.model("tests/fixtures/chain.toml")


def test_ranges_are_checked_and_unbounded_parameters_need_one(ema):
    with pytest.raises(nb.ParameterError, match="has no finite range"):
        ema.model(PROTOCOL, ["population.roxham_flow.people"])
    with pytest.raises(nb.ParameterError, match="a probability"):
        ema.model(PROTOCOL, {RATE: (0.5, 1.5)})
    with pytest.raises(nb.ParameterError, match="not a settable parameter"):
        ema.model(PROTOCOL, {"policy.nobody.factor": (0, 1)})
    with pytest.raises(ValueError, match="unknown outcome"):
        ema.model(PROTOCOL, [RATE], ["claims@atlantis"])
    m = ema.model(PROTOCOL, {"population.roxham_flow.people": (20000, 60000)}, levers={RATE: (0.5, 1.0)})
    assert [l.name for l in m.levers] == ["policy_rcmp_between_ports_detection_rate"]
    assert np.isclose(m.levers[0].lower_bound, 0.5)


def test_names_become_identifiers(ema):
    assert ema.identifier("claims@lacolle") == "claims_at_lacolle"
    assert ema.identifier("policy.stca_2023.detection_rate") == "policy_stca_2023_detection_rate"
