"""Loading: scenarios as plain Python objects, and bad files reported as the
command line reports them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd
import pytest

import northbound as nb

from conftest import SCENARIOS

BROKEN = """\
[scenario]
name = "broken"
start = 2025-01-01
end = 2025-01-30

[[place]]
id = "a"
country = "MX"
kind = "city"
lat = 15.0
lon = -92.0

[[place]]
id = "b"
country = "Mexico"
kind = "town"
lat = 116.0
lon = -93.0

[[route]]
from = "a"
to = "b"
km = 40
mode = "walk"

[[population]]
id = "walkers"
origin = "a"
nationality = "HN"
people = 1000
destinations = { US = 1.0 }
depart = 2025-01-02
"""


def test_a_scenario_is_plain_python_objects():
    sc = nb.load("scenarios/protocol-2023.toml")
    assert sc.name == "protocol-2023"
    assert (sc.start, sc.end, sc.days, sc.seed) == (dt.date(2023, 1, 1), dt.date(2023, 9, 30), 273, 2023)
    assert sc.file.as_posix() == "scenarios/protocol-2023.toml"
    assert [p.id for p in sc.places][:3] == ["new_york", "jfk", "plattsburgh"]
    roxham = sc.place("roxham_road")
    assert (roxham.country, roxham.kind, roxham.official, roxham.border) == ("CA", "crossing", False, "US-CA")
    protocol = sc.policy("stca_protocol")
    assert (protocol.kind, protocol.start, protocol.end) == ("stca", dt.date(2023, 3, 25), dt.date(2023, 9, 30))
    # A turnback bars later claims in Canada for good: bar_days is None.
    assert protocol.settings == {"border": "US-CA", "scope": "whole_border", "claim_within_days": 14, "bar_days": None}
    # A window reaching before the run is clipped to it (and `check` says so).
    assert sc.policy("stca_ports").start == sc.start
    assert any("clipped" in n for n in sc.notes)
    assert sc.policy("canada_visa").nationalities == ("HT",)
    assert [v.id for v in sc.variants] == ["stca_suspended", "ports_only"]
    assert sc.variants[0].remove == ("stca_ports", "stca_protocol")
    assert sc.variants[1].policies[0].settings["scope"] == "ports"
    flow = sc.cohorts[0]
    assert (flow.id, flow.origin, flow.nationality, flow.people) == ("roxham_flow", "new_york", "HT", 45000)
    assert flow.household_size == {2: 0.3, 3: 0.3, 4: 0.4}
    assert flow.departure == {"depart_from": dt.date(2023, 1, 1), "per_day": 165.0}
    assert flow.budget_usd == {"median": 800.0, "p90": 3000.0}
    assert sc.behaviour["w_risk"] == 5.0 and sc.behaviour["no_target"] == "settle"
    route = sc.routes[0]
    assert route.from_ in {p.id for p in sc.places} and route.to in {p.id for p in sc.places}
    # Plain dataclasses: into a DataFrame in one line.
    policies = pd.DataFrame([dataclasses.asdict(p) for p in sc.policies])
    assert list(policies["id"]) == ["stca_ports", "stca_protocol", "rcmp_between_ports", "canada_visa"]


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in SCENARIOS.glob("*.toml") if not p.stem.startswith("flee-"))
)
def test_every_shipped_scenario_loads_as_check_describes_it(cli, name):
    path = f"scenarios/{name}.toml"
    sc = nb.load(path)
    out = cli("check", path).stdout
    head = re.search(r"scenario  (\S+) \((\S+) to (\S+), (\d+) days, seed (\d+)\)", out)
    assert head.groups() == (sc.name, str(sc.start), str(sc.end), str(sc.days), str(sc.seed))
    assert re.search(r"places    (\d+) \((\d+) claim points\)", out).groups() == (
        str(len(sc.places)),
        str(sum(p.claims for p in sc.places)),
    )
    assert re.search(r"routes    (\d+) ", out).group(1) == str(len(sc.routes))
    assert re.search(r"cohorts   (\d+) \((\d+) people\)", out).groups() == (str(len(sc.cohorts)), str(sc.people))
    assert re.search(r"policies  (\d+)", out).group(1) == str(len(sc.policies))
    for p in sc.policies:
        assert re.search(rf"  {re.escape(p.id)} +{p.kind} +{p.start} to {p.end}", out), p.id


def test_a_bad_scenario_raises_every_problem_with_where_and_what(cli, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    with pytest.raises(nb.ScenarioError) as info:
        nb.load(path)
    e = info.value
    assert isinstance(e, ValueError)
    cli_run = cli("check", path, check=False)
    assert cli_run.returncode == 2
    # The same text the command line prints, problem by problem.
    assert str(e) == cli_run.stderr.rstrip("\n")
    assert e.path == str(path)
    assert len(e.problems) >= 2
    fields = {p.field: p for p in e.problems}
    country = next(p for f, p in fields.items() if f.endswith("country"))
    lat = next(p for f, p in fields.items() if f.endswith("lat"))
    lines = BROKEN.splitlines()
    assert country.file == str(path)
    # Line and column point at the offending value.
    assert lines[country.line - 1][country.column - 1 :].startswith('"Mexico"')
    assert lines[lat.line - 1][lat.column - 1 :].startswith("116.0")
    for p in e.problems:
        assert p.line is not None and p.column is not None and p.message
        assert p.rendered and p.rendered in cli_run.stderr
        assert str(p).startswith(f"{path}:{p.line}:{p.column}: {p.field}: ")


def test_a_missing_file_is_a_scenario_error_without_problems(tmp_path):
    with pytest.raises(nb.ScenarioError) as info:
        nb.load(tmp_path / "nowhere.toml")
    assert info.value.problems == []
    assert "cannot read" in str(info.value)


def test_a_flee_scenario_is_refused_by_load_with_what_to_use():
    with pytest.raises(ValueError, match="flee-model scenario"):
        nb.load("scenarios/flee-mali2012.toml")
