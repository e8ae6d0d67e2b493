"""Shared fixtures: the repository, the command-line binary to compare with,
and the comparison of a DataFrame with the CSV file the command wrote."""

from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Callable, List

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
FLEE = ROOT.parent / "shared" / "peers" / "flee"

# In CI (NORTHBOUND_TEST_STRICT=1) a missing optional tool fails the suite
# instead of skipping the tests that need it.
STRICT = os.environ.get("NORTHBOUND_TEST_STRICT") == "1"


def needs(module: str) -> ModuleType:
    """Imports an optional module, or skips the test (fails in CI)."""
    if STRICT:
        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario paths are given relative to the repository, as in the README.
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """Runs the command line (NORTHBOUND_BIN, else target/release/northbound,
    built if missing) from the repository root."""
    exe = Path(os.environ.get("NORTHBOUND_BIN", ROOT / "target" / "release" / "northbound"))
    if not exe.exists():
        subprocess.run(["cargo", "build", "--release", "--bin", "northbound", "-q"], cwd=ROOT, check=True)

    def call(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run([str(exe), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"northbound {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}")
        return p

    return call


def csv_files(folder: Path) -> List[Path]:
    """The CSV files of a folder and its subfolders, relative to it."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*.csv"))


# What a folder publishes beside its tables; none holds a time or a path
# of its own, so the command line's and Python's are the same bytes.
PUBLISHED = ("summary.md", "places.geojson", "flows.geojson", "datapackage.json", "report.html")


def assert_same_files(a: Path, b: Path) -> None:
    """Both folders hold the same CSV files and the same published files
    (summary, GeoJSON, datapackage, report), byte for byte."""
    assert csv_files(a) == csv_files(b)
    for f in csv_files(a):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f"{f} differs"
    for f in PUBLISHED:
        assert (a / f).exists() == (b / f).exists(), f
        if (a / f).exists():
            assert (a / f).read_bytes() == (b / f).read_bytes(), f"{f} differs"


def assert_frame_is_csv(df: pd.DataFrame, path: Path, decimals: int | None = None) -> None:
    """A DataFrame holds what a CSV file written by the command line holds:
    the same columns in the same order, the same rows, the same values
    (dates as YYYY-MM-DD, missing ids as empty cells; floats equal, or equal
    once rounded to `decimals` as the file rounds them)."""
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(df.columns) == list(text.columns), path.name
    assert len(df) == len(text), path.name
    for c in df.columns:
        col, want = df[c], text[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            got = col.astype(object).where(col.notna(), "").astype(str)
            assert list(got) == list(want), f"{path.name}: {c}"
        elif pd.api.types.is_bool_dtype(col):
            assert list(col.map({True: "true", False: "false"})) == list(want), f"{path.name}: {c}"
        elif pd.api.types.is_datetime64_any_dtype(col):
            assert list(col.dt.strftime("%Y-%m-%d")) == list(want), f"{path.name}: {c}"
        elif pd.api.types.is_integer_dtype(col):
            assert np.array_equal(col.to_numpy(), want.astype(np.int64).to_numpy()), f"{path.name}: {c}"
        else:
            # An empty cell is a missing number (NaN in the frame).
            got, exp = col.to_numpy(dtype=float), want.replace("", "nan").astype(float).to_numpy()
            if decimals is None:
                assert np.array_equal(got, exp, equal_nan=True), f"{path.name}: {c}"
            else:
                # The file rounds to `decimals`: the same number to that precision.
                assert np.allclose(got, exp, rtol=0, atol=0.5 * 10.0**-decimals + 1e-9, equal_nan=True), f"{path.name}: {c}"
