"""compare, sweep, validate and import_flee: the command line's semantics and
numbers, from Python."""

from __future__ import annotations

import datetime
import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import northbound as nb

from conftest import FLEE, assert_frame_is_csv, assert_same_files

PROTOCOL = "scenarios/protocol-2023.toml"
ROXHAM = "scenarios/roxham-2017-2020.toml"


@pytest.fixture(scope="module")
def comparison() -> nb.Comparison:
    return nb.compare(PROTOCOL, replicates=4)


def test_compare_gives_the_command_lines_comparison(cli, comparison, tmp_path):
    assert comparison.variants == ("stca_suspended", "ports_only")
    t = comparison.table
    assert list(t.columns) == ["variant", "metric", "place", "base", "mean", "diff", "diff_lo95", "diff_hi95"]
    assert [str(t[c].dtype) for c in ["variant", "metric", "place"]] == ["category"] * 3
    assert all(t[c].dtype == np.float64 for c in ["base", "mean", "diff", "diff_lo95", "diff_hi95"])
    assert (t["diff_lo95"] <= t["diff"]).all() and (t["diff"] <= t["diff_hi95"]).all()
    out = cli("compare", PROTOCOL, "--replicates", "4", "--out", tmp_path / "cli")
    # What the command prints, up to where it says it wrote its tables.
    assert out.stdout.startswith(str(comparison))
    comparison.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    assert_frame_is_csv(t, tmp_path / "cli" / "comparison.csv", decimals=3)
    # Suspending the STCA sends the flow to Canada: the lever, with its interval.
    ca = t[(t["variant"] == "stca_suspended") & (t["metric"] == "claimed_ca")].iloc[0]
    assert ca["diff_lo95"] > 0


def test_compare_over_a_window_gives_the_command_lines_place_differences_and_periods(cli, tmp_path):
    window = "2023-04-01..2023-06-30"
    c = nb.compare(PROTOCOL, variants=["stca_suspended"], replicates=3, scale=0.3, period="month", window=window)
    assert c.window == (datetime.date(2023, 4, 1), datetime.date(2023, 6, 30))
    d = c.place_differences
    assert list(d.columns) == [
        "variant", "place", "metric", "from", "until", "base", "mean", "diff", "diff_lo95", "diff_hi95",
    ]
    assert [str(d[k].dtype) for k in ["variant", "place", "metric"]] == ["category"] * 3
    assert (d["from"] == pd.Timestamp("2023-04-01")).all() and (d["until"] == pd.Timestamp("2023-06-30")).all()
    # Over the window, the base's claims at Lacolle are those of its replicates' days.
    base = c.run().places
    days = base[(base["place"] == "lacolle") & base["date"].between("2023-04-01", "2023-06-30")]
    row = d[(d["place"] == "lacolle") & (d["metric"] == "claims")].iloc[0]
    assert row["base"] == pytest.approx(days.groupby("replicate")["claims"].sum().mean())
    p = c.periods
    assert list(p["variant"].cat.categories) == ["base", "stca_suspended"]
    assert list(p["period"].cat.categories)[:2] == ["2023-01", "2023-02"]
    out = cli(
        "compare", PROTOCOL, "--variants", "stca_suspended", "--replicates", "3", "--scale", "0.3",
        "--period", "month", "--window", window, "--out", tmp_path / "cli",
    )
    assert out.stdout.startswith(str(c)) and "place_differences.csv" in str(c)
    assert_frame_is_csv(d, tmp_path / "cli" / "place_differences.csv", decimals=3)
    assert_frame_is_csv(p, tmp_path / "cli" / "periods.csv", decimals=3)
    c.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    # A window outside the run is refused, as --window refuses it.
    with pytest.raises(ValueError, match="not inside the run"):
        nb.compare(PROTOCOL, replicates=1, window=("2022-12-01", "2023-01-31"))
    err = cli("compare", PROTOCOL, "--replicates", "1", "--window", "2022-12-01..2023-01-31", check=False)
    assert err.returncode == 2 and "not inside the run" in err.stderr


def test_the_runs_behind_a_comparison_share_seeds(comparison):
    base = comparison.run()
    suspended = comparison.run("stca_suspended")
    assert base.seeds == suspended.seeds == [nb.replicate_seed(2023, k) for k in range(4)]
    means = suspended.outputs.mean()
    row = comparison.table.set_index(["variant", "metric"]).loc[("stca_suspended", "claimed_ca")]
    assert means["claimed_ca"] == pytest.approx(row["mean"])
    assert base.outputs.mean()["claimed_ca"] == pytest.approx(row["base"])
    with pytest.raises(KeyError, match="no variant `nope`"):
        comparison.run("nope")


def test_compare_refuses_unknown_variants_and_scenarios_without_any(cli):
    with pytest.raises(ValueError) as info:
        nb.compare(PROTOCOL, variants=["nope"], replicates=1)
    err = cli("compare", PROTOCOL, "--variants", "nope", "--replicates", "1", check=False)
    assert err.returncode == 2 and err.stderr.strip() == f"error: {info.value}"
    with pytest.raises(ValueError, match="declares no \\[\\[variant\\]\\]"):
        nb.compare("scenarios/caravan-2025.toml", replicates=1)
    one = nb.compare(PROTOCOL, variants="ports_only", replicates=2)
    assert one.variants == ("ports_only",)


def test_sweep_gives_the_command_lines_sweep(cli, tmp_path):
    path = "policy.rcmp_between_ports.detection_rate"
    s = nb.sweep(PROTOCOL, {path: "0.5:1:0.25"}, replicates=2)
    assert list(s.table[path]) == [0.5, 0.75, 1.0]
    assert list(s.table.columns[1:4]) == ["not_departed_mean", "not_departed_lo95", "not_departed_hi95"]
    out = cli("sweep", PROTOCOL, "--param", f"{path}=0.5:1:0.25", "--replicates", "2", "--out", tmp_path / "cli")
    assert out.stdout.startswith(str(s)) and "sweep_long.csv" in str(s)
    assert s.csv() == (tmp_path / "cli" / "sweep.csv").read_text()
    s.write(tmp_path / "py")
    assert_same_files(tmp_path / "cli", tmp_path / "py")
    assert_frame_is_csv(s.table, tmp_path / "cli" / "sweep.csv", decimals=3)
    # Values given as a list are the same grid.
    listed = nb.sweep(PROTOCOL, {path: [0.5, 0.75, 1.0]}, replicates=2)
    pd.testing.assert_frame_equal(listed.table, s.table)
    # The swept rate changes what happens between ports.
    assert s.table["detected_mean"].nunique() == 3


def test_a_two_parameter_sweep_is_a_grid():
    s = nb.sweep(
        PROTOCOL,
        {"policy.stca_protocol.claim_within_days": [0, 14], "population.roxham_flow.informed_share": [0.5, 1.0]},
        replicates=1,
        scale=0.2,
    )
    assert len(s.table) == 4
    assert list(zip(s.table.iloc[:, 0], s.table.iloc[:, 1])) == [(0, 0.5), (0, 1.0), (14, 0.5), (14, 1.0)]


def test_sweep_checks_every_value_before_running(cli):
    with pytest.raises(nb.ParameterError, match="a probability"):
        nb.sweep(PROTOCOL, {"policy.rcmp_between_ports.detection_rate": "0:2:1"})
    with pytest.raises(nb.ParameterError, match="not a settable parameter"):
        nb.sweep(PROTOCOL, {"policy.nobody.factor": [1]})
    with pytest.raises(ValueError) as info:
        nb.sweep(PROTOCOL, {"behaviour.w_dist": "1:x:1"})
    err = cli("sweep", PROTOCOL, "--param", "behaviour.w_dist=1:x:1", check=False)
    assert err.stderr.strip() == f"error: {info.value}"
    with pytest.raises(ValueError, match="sweep needs params"):
        nb.sweep(PROTOCOL, {})


def test_validate_gives_the_command_lines_validation(cli):
    v = nb.validate(ROXHAM, "validation/roxham-2017-2018.toml", replicates=2)
    out = cli("validate", ROXHAM, "--targets", "validation/roxham-2017-2018.toml", "--replicates", "2")
    assert str(v) == out.stdout
    t = v.table
    assert list(t.columns[:6]) == ["target", "metric", "places", "nationality", "from", "until"]
    assert t["from"].dtype == np.dtype("datetime64[ns]")
    assert t.set_index("target").loc["quebec_2017_02", "observed"] == 432
    assert v.mare == pytest.approx(t["rel_error"].mean())
    assert f"mean absolute relative error: {v.mare:.3f}" in out.stdout
    assert v.persistence is not None and v.persistence["targets"] > 0


def test_a_bad_targets_file_is_a_scenario_error(tmp_path):
    bad = tmp_path / "targets.toml"
    bad.write_text('[[target]]\nid = "x"\nplace = "atlantis"\nmetric = "claims"\nfrom = 2017-01-01\nuntil = 2017-01-31\nvalue = 3\nsource = "s"\n')
    with pytest.raises(nb.ScenarioError) as info:
        nb.validate(ROXHAM, bad, replicates=1)
    assert info.value.problems and info.value.problems[0].line == 3


@pytest.mark.skipif(not (FLEE / "mali2012").is_dir(), reason="needs ../shared/peers/flee")
def test_import_flee_gives_the_command_lines_scenario(cli, tmp_path):
    folder = FLEE / "mali2012"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = nb.import_flee(folder)
    out = cli("import-flee", folder)
    assert text == out.stdout
    # What the command prints as warnings comes as warnings.
    printed = [l.removeprefix("warning: ") for l in out.stderr.splitlines() if l.startswith("warning: ")]
    assert [str(w.message) for w in caught if issubclass(w.category, nb.NorthboundWarning)] == printed
    target = tmp_path / "mali.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compat = nb.import_flee(folder, out=target, flee_compat="3.1")
    assert target.read_text() == compat
    cli("import-flee", folder, "-o", tmp_path / "cli.toml", "--flee-compat", "3.1")
    assert (tmp_path / "cli.toml").read_text() == compat
    assert '\nflee_compat = "3.1"' in compat


def test_import_flee_refuses_what_is_not_a_flee_folder(tmp_path):
    with pytest.raises(ValueError, match="not a Flee scenario folder"):
        nb.import_flee(tmp_path)
    if (FLEE / "mali2012").is_dir():
        with pytest.raises(ValueError, match="valid values are 3.1 and intended"):
            nb.import_flee(FLEE / "mali2012", flee_compat="2.0")


def test_comparison_and_sweep_folders_keep_the_command_lines_rules(comparison, tmp_path):
    s = nb.sweep(PROTOCOL, {"policy.rcmp_between_ports.detection_rate": [0.5]}, replicates=1, scale=0.1)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    for result in (comparison, s):
        with pytest.raises(nb.OutputError, match="did not write"):
            result.write(theirs)
        with pytest.raises(nb.OutputError, match="file"):
            result.write(theirs / "keep.txt", force=True)
    assert sorted(p.name for p in theirs.iterdir()) == ["keep.txt"] and (theirs / "keep.txt").read_text() == "mine"
    # Each writes its own folder with its command in the manifest, and
    # replaces it whole next time.
    for result, command in ((comparison, "compare"), (s, "sweep")):
        out = tmp_path / command
        result.write(out)
        assert json.loads((out / ".northbound.json").read_text())["command"] == command
        result.write(out)


@pytest.mark.skipif(not (FLEE / "mali2012").is_dir(), reason="needs ../shared/peers/flee")
def test_import_flee_never_replaces_a_file_it_did_not_write(tmp_path):
    folder = FLEE / "mali2012"
    mine = tmp_path / "mine.toml"
    mine.write_text("# my own notes\n")
    with pytest.raises(nb.OutputError, match="northbound did not write it"):
        nb.import_flee(folder, out=mine)
    assert mine.read_text() == "# my own notes\n"
    with pytest.raises(nb.OutputError, match="it is a folder"):
        nb.import_flee(folder, out=tmp_path)
    # Its own file (its first line is northbound's) is replaced.
    ours = tmp_path / "ours.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = nb.import_flee(folder, out=ours)
        again = nb.import_flee(folder, out=ours, flee_compat="3.1")
    assert ours.read_text() == again != first
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "no temporary or lock file left"


@pytest.mark.skipif(not (FLEE / "mali2012").is_dir(), reason="needs ../shared/peers/flee")
def test_problems_in_several_files_of_a_flee_folder_are_all_listed(cli, tmp_path):
    folder = tmp_path / "mali"
    shutil.copytree(FLEE / "mali2012", folder)
    locations = folder / "input_csv" / "locations.csv"
    lines = locations.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("16.78026", "abc")
    locations.write_text("".join(lines))
    routes = folder / "input_csv" / "routes.csv"
    lines = routes.read_text().splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n").rsplit(",", 1)[0] + ",xx\n"
    routes.write_text("".join(lines))
    with pytest.raises(nb.ScenarioError) as info:
        nb.import_flee(folder)
    e = info.value
    assert e.path == str(folder)
    assert [(p.file, p.line) for p in e.problems] == [(str(locations), 3), (str(routes), 2)]
    assert "abc" in e.problems[0].message and "xx" in e.problems[1].message
    assert routes.read_text().splitlines()[1][e.problems[1].column - 1 :] == "xx"
    # The report is the command line's, problem by problem.
    out = cli("import-flee", folder, check=False)
    assert out.returncode == 2 and str(e) == out.stderr.rstrip("\n")
    assert all(p.rendered in out.stderr for p in e.problems)
