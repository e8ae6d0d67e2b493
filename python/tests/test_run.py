"""Runs: tables as DataFrames with proper dtypes, the same numbers as the
command line (DataFrames and written folders alike), replicates, variants,
scale, and the arguments the command refuses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import northbound as nb

from conftest import ROOT, assert_frame_is_csv, assert_same_files

PROTOCOL = "scenarios/protocol-2023.toml"
ROXHAM = "scenarios/roxham-2017-2020.toml"
COUNTS = ["present", "arrived", "departed", "claims", "turned_back", "expelled", "intercepted", "detected", "removed"]


@pytest.fixture(scope="module")
def traced() -> nb.Run:
    return nb.run(PROTOCOL, seed=11, trace=25, by_cohort=True)


def test_tables_have_proper_dtypes(traced):
    assert set(traced.table_names) == {"places", "outcomes", "events", "routes", "periods", "cohort_places", "trace"}
    p = traced.places
    assert p["date"].dtype == np.dtype("datetime64[ns]")
    assert p["day"].dtype == np.int64
    assert isinstance(p["place"].dtype, pd.CategoricalDtype)
    assert list(p["place"].cat.categories) == [pl.id for pl in traced.scenario.places]
    assert all(p[c].dtype == np.int64 for c in COUNTS)
    assert p["date"].iloc[0] == pd.Timestamp("2023-01-01") and p["date"].iloc[-1] == pd.Timestamp("2023-09-30")
    o = traced.outcomes
    assert [str(o[c].dtype) for c in o.columns] == ["category", "category", "category", "int64"]
    assert o["people"].sum() == 45000
    e = traced.events
    assert e["count"].dtype == np.int64 and e["people"].dtype == np.int64
    r = traced.routes
    assert [str(r[c].dtype) for c in ["route", "from", "to", "mode"]] == ["category"] * 4
    assert all(r[c].dtype == np.float64 for c in ["km", "from_lat", "from_lon", "to_lat", "to_lon"])
    assert r["people"].dtype == np.int64
    cp = traced.cohort_places
    assert cp["date"].dtype == np.dtype("datetime64[ns]") and cp["claims"].dtype == np.int64
    t = traced.trace
    assert t["agent"].dtype == np.int64 and t["agent"].nunique() == 25
    assert isinstance(t["state"].dtype, pd.CategoricalDtype)
    # No place (a journey ended, or on a route) is missing, not "".
    ended = t["state"].isin(["claimed_us", "claimed_ca", "settled_irregular"])
    assert t["place"].isna().any() and t.loc[ended, "place"].isna().all()
    assert t.loc[t["state"] == "travelling", "route"].notna().all()
    pr = traced.periods
    assert list(pr.columns) == [
        "period", "from", "until", "days", "complete", "place", "metric", "mean", "sd", "lo95", "hi95",
    ]
    assert [str(pr[c].dtype) for c in ["period", "place", "metric"]] == ["category"] * 3
    assert pr["from"].dtype == np.dtype("datetime64[ns]") and pr["until"].dtype == np.dtype("datetime64[ns]")
    assert pr["days"].dtype == np.int64 and pr["complete"].dtype == np.bool_
    assert all(pr[c].dtype == np.float64 for c in ["mean", "sd", "lo95", "hi95"])
    assert "removed" in list(pr["metric"].cat.categories)
    # 2023-01-01 is a Sunday: the first week is one day long, and not whole.
    first = pr.iloc[0]
    assert (first["period"], first["days"], bool(first["complete"])) == ("2022-W52", 1, False)


def test_periods_are_the_daily_counts_summed_over_calendar_weeks_and_months(cli, traced, tmp_path):
    # The weekly claims at a place are the sums of places' days in each week.
    claims = traced.places.set_index("date").groupby("place", observed=True)["claims"]
    weekly = traced.periods[(traced.periods["metric"] == "claims") & (traced.periods["place"] == "lacolle")]
    for _, w in weekly.iterrows():
        days = claims.get_group("lacolle").loc[w["from"] : w["until"]]
        assert len(days) == w["days"] and days.sum() == w["mean"] and w["lo95"] == w["hi95"] == w["mean"]
    # period="month" as --period month, frames and files alike.
    monthly = nb.run(PROTOCOL, seed=11, period="month")
    p = monthly.periods
    assert list(p["period"].cat.categories)[:3] == ["2023-01", "2023-02", "2023-03"]
    assert p["complete"].all() and set(p["days"]) == {28, 30, 31}
    cli("run", PROTOCOL, "--seed", "11", "--period", "month", "--out", tmp_path / "cli", "--quiet")
    assert_frame_is_csv(p, tmp_path / "cli" / "periods.csv", decimals=3)
    monthly.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    assert json.loads((tmp_path / "py" / "datapackage.json").read_text())["northbound"]["period"] == "month"
    with pytest.raises(ValueError, match='period must be "week" or "month"'):
        nb.run(PROTOCOL, period="fortnight")


def test_a_run_gives_the_command_lines_tables_in_frames_and_files(cli, traced, tmp_path):
    cli("run", PROTOCOL, "--seed", "11", "--trace", "25", "--by-cohort", "--out", tmp_path / "cli", "--quiet")
    written = traced.write(tmp_path / "py")
    assert written == tmp_path / "py"
    # The folder Python writes is the command line's, byte for byte.
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    assert (tmp_path / "py" / "report.html").exists()
    # And the DataFrames hold the very numbers of those files.
    for name in traced.table_names:
        assert_frame_is_csv(traced.table(name), tmp_path / "cli" / f"{name}.csv")
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    py_summary = json.loads((tmp_path / "py" / "summary.json").read_text())
    for s in (cli_summary, py_summary):
        del s["wall_s"]
    assert py_summary == cli_summary
    # run.summary is summary.json without the tables' hashes.
    mine = traced.summary
    del mine["wall_s"], cli_summary["tables"]
    assert mine == cli_summary
    assert list(mine) == [k for k in json.loads((tmp_path / "cli" / "summary.json").read_text()) if k in mine]


def test_a_trace_on_foot_names_the_routes_being_walked(cli, tmp_path):
    walk = nb.run("scenarios/caravan-2025.toml", trace=40)
    on_route = walk.trace[walk.trace["state"] == "travelling"]
    assert len(on_route) > 0 and on_route["route"].notna().all() and on_route["place"].isna().all()
    cli("run", "scenarios/caravan-2025.toml", "--trace", "40", "--out", tmp_path, "--quiet")
    assert_frame_is_csv(walk.trace, tmp_path / "trace.csv")


def test_results_do_not_depend_on_the_number_of_threads():
    one = nb.run(PROTOCOL, threads=1)
    two = nb.run(PROTOCOL, threads=2)
    for name in one.table_names:
        pd.testing.assert_frame_equal(one.table(name), two.table(name))


def test_the_seed_is_the_scenarios_unless_given():
    sc = nb.load(PROTOCOL)
    default = nb.run(sc)
    assert default.seed == sc.seed == 2023
    other = nb.run(sc, seed=5)
    assert other.seed == 5
    assert not default.outcomes.equals(other.outcomes)
    pd.testing.assert_frame_equal(nb.run(sc, seed=5).places, other.places)


def test_replicates_are_the_command_lines_replicates(cli, tmp_path):
    reps = nb.run(PROTOCOL, replicates=3, fixed_inputs=True)
    assert reps.replicates == 3
    assert reps.seeds == [nb.replicate_seed(2023, k) for k in range(3)] and reps.seeds[0] == 2023
    places = reps.places
    assert list(places.columns[:2]) == ["replicate", "day"]
    assert sorted(places["replicate"].unique()) == [0, 1, 2]
    # With the inputs at their values, replicate 0 is the run itself.
    first = places[places["replicate"] == 0].drop(columns="replicate").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, nb.run(PROTOCOL).places)
    outputs = reps.outputs
    assert list(outputs.index) == [0, 1, 2]
    assert (outputs["claimed_ca"] + outputs["claimed_us"] + outputs["waiting"] + outputs["settled_irregular"] <= 45000).all()
    assert reps.summary["replicates"] == 3 and len(reps.summary["runs"]) == 3
    cli("run", PROTOCOL, "--replicates", "3", "--fixed-inputs", "--out", tmp_path / "cli", "--quiet")
    reps.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    for k in range(3):
        one = reps.places[reps.places["replicate"] == k].drop(columns="replicate").reset_index(drop=True)
        assert_frame_is_csv(one, tmp_path / "cli" / f"replicate-{k}" / "places.csv")
    # The periods of replicates are over the replicates (no replicate column),
    # as in the folder's periods.csv.
    assert "replicate" not in reps.periods.columns
    assert_frame_is_csv(reps.periods, tmp_path / "cli" / "periods.csv", decimals=3)
    assert (reps.periods["lo95"] <= reps.periods["mean"]).all() and (reps.periods["mean"] <= reps.periods["hi95"]).all()


def test_replicates_draw_the_uncertain_inputs_as_the_command_line_does(cli, tmp_path):
    drawn = nb.run(PROTOCOL, replicates=3)
    cli("run", PROTOCOL, "--replicates", "3", "--out", tmp_path / "cli", "--quiet")
    drawn.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    first = drawn.places[drawn.places["replicate"] == 0].drop(columns="replicate").reset_index(drop=True)
    assert not first.equals(nb.run(PROTOCOL).places), "replicate 0 drew its inputs"
    assert "chance and inputs" in (tmp_path / "py" / "summary.md").read_text()


def test_scale_and_variant_are_applied_as_the_command_line_applies_them(cli, tmp_path):
    half = nb.run(PROTOCOL, scale=0.5)
    assert half.summary["people"] == 22500
    cli("run", PROTOCOL, "--scale", "0.5", "--out", tmp_path / "cli", "--quiet")
    assert_frame_is_csv(half.outcomes, tmp_path / "cli" / "outcomes.csv")
    # The scale is said where the command line says it (titles, summary.md).
    half.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    assert "scale 0.5 (50 % of the people" in (tmp_path / "py" / "summary.md").read_text()
    suspended = nb.run(PROTOCOL, variant="stca_suspended")
    assert suspended.scenario.name == "protocol-2023 [stca_suspended]"
    assert suspended.events.set_index("event")["count"]["turned_back"] == 0
    # The variant's replicate 0 in a comparison is the same run.
    cmp = nb.compare(PROTOCOL, variants=["stca_suspended"], replicates=1, fixed_inputs=True)
    pd.testing.assert_frame_equal(
        cmp.run("stca_suspended").outcomes.drop(columns="replicate"), suspended.outcomes
    )


def test_named_outputs_are_the_figures_of_the_tables(traced):
    out = traced.outputs.iloc[0]
    assert list(traced.outputs.columns) == traced.scenario.output_names()
    assert out["claimed_ca"] == traced.summary["states"]["claimed_ca"]
    assert out["turned_back"] == traced.summary["events"]["turned_back"]["count"]
    claims = traced.places.groupby("place", observed=True)["claims"].sum()
    assert out["claims@lacolle"] == claims["lacolle"] and out["claims@yul"] == claims["yul"]


def test_a_table_the_run_does_not_have_says_how_to_get_it():
    plain = nb.run(PROTOCOL)
    assert not hasattr(plain, "trace")
    with pytest.raises(AttributeError, match="trace=N"):
        plain.trace
    with pytest.raises(AttributeError, match="by_cohort=True"):
        plain.cohort_places


def test_bad_arguments_are_refused_before_running():
    with pytest.raises(ValueError, match="threads must be between 1 and 4096"):
        nb.run(PROTOCOL, threads=0)
    with pytest.raises(ValueError, match="replicates must be between 1 and"):
        nb.run(PROTOCOL, replicates=0)
    with pytest.raises(ValueError, match="trace and by_cohort are for a single run"):
        nb.run(PROTOCOL, replicates=2, trace=5)
    with pytest.raises(ValueError, match="positive"):
        nb.run(PROTOCOL, scale=-1)
    with pytest.raises(TypeError, match="Scenario or the path"):
        nb.run(42)


def test_writing_over_a_folder_replaces_it_whole(tmp_path):
    run = nb.run(PROTOCOL)
    out = tmp_path / "out"
    run.write(out)
    nb.run(PROTOCOL, trace=3).write(out)
    assert (out / "trace.csv").exists()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def _tree(folder):
    """Every file under a folder with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writing_refuses_what_northbound_did_not_write_and_deletes_nothing(tmp_path, monkeypatch):
    run = nb.run(PROTOCOL, scale=0.1)
    scenario = (tmp_path / "study" / "protocol.toml")
    scenario.parent.mkdir()
    scenario.write_bytes((ROOT / PROTOCOL).read_bytes())
    (tmp_path / "notes.txt").write_text("mine")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "data.csv").write_text("x\n")
    (tmp_path / "file").write_text("keep")
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    # `.`, the current folder by name, a folder northbound did not write
    # (even with force=True), a file, and a folder holding the scenario the
    # run read.
    for dest, force, why in [
        (".", True, "it is `.`"),
        (tmp_path, True, "current folder"),
        (theirs, False, "did not write"),
        (theirs, True, "--force does not apply"),
        (tmp_path / "file", True, "it is a file"),
    ]:
        with pytest.raises(nb.OutputError, match=why):
            run.write(dest, force=force)
    with pytest.raises(nb.OutputError, match="which this command reads"):
        nb.run(scenario, scale=0.1).write(scenario.parent)
    assert _tree(tmp_path) == before, "a refused write changed nothing"
    # A folder northbound wrote holds a manifest of exactly its files.
    ours = tmp_path / "ours"
    assert run.write(ours) == ours
    manifest = json.loads((ours / ".northbound.json").read_text())
    assert manifest["command"] == "run"
    assert sorted(f["path"] for f in manifest["files"]) == sorted(p for p in _tree(ours) if p != ".northbound.json")
    # A file the user added to it is kept unless force=True replaces the folder.
    (ours / "my-notes.md").write_text("n")
    with pytest.raises(nb.OutputError, match="my-notes.md"):
        run.write(ours)
    assert (ours / "my-notes.md").read_text() == "n"
    run.write(ours, force=True)
    assert not (ours / "my-notes.md").exists() and (ours / "places.csv").exists()
    assert not any(p.name.startswith(".ours") for p in tmp_path.iterdir()), "no temporary or lock file left"


def test_runs_too_big_for_the_engine_or_the_memory_are_refused_before_they_start(monkeypatch):
    with pytest.raises(ValueError, match="more than the engine's 4294967294"):
        nb.load(PROTOCOL).scaled(1e12)
    with pytest.raises(ValueError, match="more than the engine's"):
        nb.run(PROTOCOL, scale=1e12)
    # NORTHBOUND_MEMORY_BYTES stands for the memory available, as for the
    # command line (loading checks it too: the scenarios are loaded first).
    protocol, roxham = nb.load(PROTOCOL), nb.load(ROXHAM)
    monkeypatch.setenv("NORTHBOUND_MEMORY_BYTES", "1000")
    for call in (
        lambda: nb.run(protocol),
        lambda: nb.run(protocol, replicates=3),
        lambda: nb.compare(protocol, replicates=2),
        lambda: nb.sweep(protocol, {"policy.rcmp_between_ports.detection_rate": [0.5]}, replicates=1),
        lambda: nb.validate(roxham, "validation/roxham-2017-2018.toml", replicates=1),
    ):
        with pytest.raises(ValueError, match="and 1000 bytes is available"):
            call()
