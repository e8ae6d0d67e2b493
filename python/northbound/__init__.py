"""northbound from Python: scenarios as Python objects, runs as pandas tables.

The simulator is the Rust library of this repository; this package calls it
(no model is re-implemented here) and hands its results over as pandas
DataFrames built from the engine's own columns::

    import northbound as nb
    run = nb.run("scenarios/protocol-2023.toml")
    run.places.groupby("place", observed=True)["claims"].sum()

Every function has the semantics of the command with the same name
(``northbound run``, ``compare``, ``sweep``, ``validate``, ``import-flee``):
the same defaults, the same seeds, the same numbers. A run from Python and a
run of the command line with the same scenario and seed write identical
tables. Long calls release the GIL and stop cleanly on Ctrl-C (or a kernel
interrupt in Jupyter). See ``docs/python.md`` for the reference.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _northbound as _native
from ._errors import NorthboundError, NorthboundWarning, OutputError, ParameterError, Problem, RunError, ScenarioError

__version__: str = _native.__version__

__all__ = [
    "Cohort",
    "Comparison",
    "NorthboundError",
    "NorthboundWarning",
    "OutputError",
    "Parameter",
    "ParameterError",
    "Place",
    "Policy",
    "Problem",
    "Route",
    "Run",
    "RunError",
    "Scenario",
    "ScenarioError",
    "Sweep",
    "Uncertain",
    "Validation",
    "Variant",
    "compare",
    "import_flee",
    "load",
    "replicate_seed",
    "run",
    "sweep",
    "validate",
]

PathLike = Union[str, "os.PathLike[str]"]
"""A file or folder path."""

ScenarioLike = Union["Scenario", str, "os.PathLike[str]"]
"""A loaded :class:`Scenario`, or the path of a scenario file."""

Progress = Union[bool, Callable[[int, int], Any], None]
"""How long work reports progress: ``True`` draws a tqdm bar (in a notebook
or a terminal); a function is called with ``(done, total)`` about twenty
times a second (days of a single run, runs of an ensemble; raise from it to
stop the work); ``None`` or ``False``, nothing."""


# ------------------------------------------------------------------ scenario


@dataclass(frozen=True)
class Place:
    """A place of the graph (``[[place]]``)."""

    id: str
    name: str
    country: str
    kind: str
    lat: float
    lon: float
    capacity: Optional[int]
    claims: bool
    claims_per_day: Optional[int]
    border: Optional[str]
    official: bool
    near_side: Optional[str]


@dataclass(frozen=True)
class Route:
    """A declared route (``[[route]]``); ``from_`` is its start."""

    id: str
    from_: str
    to: str
    km: float
    mode: str
    days: float
    cost_usd: float
    risk: float
    both_ways: bool


@dataclass(frozen=True)
class Cohort:
    """A cohort (``[[population]]``): who sets out, from where, when.

    ``departure`` holds the scenario's departure keys (``depart_on``,
    ``depart_from`` with ``depart_until`` or ``per_day``, or
    ``daily_depart_share``), with dates as :class:`datetime.date`.
    """

    id: str
    origin: str
    nationality: str
    people: int
    household_size: Dict[int, float]
    family_share: float
    minor_share: float
    destinations: Dict[str, float]
    knows: Optional[Tuple[str, ...]]
    relatives: Dict[str, float]
    visa: Dict[str, float]
    resident_of: Optional[str]
    budget_usd: Union[float, Dict[str, float], None]
    informed_share: float
    departure: Dict[str, Any]
    caravan: Optional[str] = None


@dataclass(frozen=True)
class Uncertain:
    """An uncertain input of the scenario file (``{ value = …, range = [low, high] }``).

    ``path`` names it (``population.haitian_tps.people``, or
    ``input.<name>`` for one input written in several places); plain runs
    use ``value``; replicates draw it over ``[low, high]`` by ``dist``
    (``uniform``, ``triangular`` with its mode at ``value``, ``loguniform``).
    """

    path: str
    value: float
    low: float
    high: float
    dist: str
    whole: bool
    line: int


@dataclass(frozen=True)
class Policy:
    """A dated policy (``[[policy]]``).

    ``start`` and ``end`` are the first and last days it is in force within
    the run (a window reaching outside the run is clipped to it);
    ``settings`` holds the kind's own keys (places by id).
    """

    id: str
    kind: str
    start: _dt.date
    end: _dt.date
    nationalities: Optional[Tuple[str, ...]]
    exempt: Tuple[str, ...]
    settings: Dict[str, Any]


@dataclass(frozen=True)
class Variant:
    """A named set of policy changes (``[[variant]]``) that ``compare`` runs against the base."""

    id: str
    description: str
    remove: Tuple[str, ...]
    policies: Tuple[Policy, ...]


@dataclass(frozen=True)
class Parameter:
    """A numeric field settable by path (``with_values``, ``sweep``, calibration).

    ``value`` is the scenario's (infinite for a capacity that is not set);
    valid values lie in ``[min, max]`` (``(min, max]`` when
    ``min_exclusive``); ``integer`` fields are rounded.
    """

    path: str
    value: float
    min: float
    max: float
    min_exclusive: bool
    integer: bool

    @property
    def bounded(self) -> bool:
        """Whether the valid range is finite (a rate, a number of days)."""
        return bool(np.isfinite(self.min) and np.isfinite(self.max))


def _date(s: str) -> _dt.date:
    return _dt.date.fromisoformat(s)


def _policy(d: Mapping[str, Any]) -> Policy:
    nat = d["nationalities"]
    return Policy(
        id=d["id"],
        kind=d["kind"],
        start=_date(d["start"]),
        end=_date(d["end"]),
        nationalities=None if nat is None else tuple(nat),
        exempt=tuple(d["exempt"]),
        settings=dict(d["settings"]),
    )


def _cohort(d: Mapping[str, Any]) -> Cohort:
    departure = {k: (_date(v) if k in ("depart_on", "depart_from", "depart_until") else v) for k, v in d["departure"].items()}
    return Cohort(
        id=d["id"],
        origin=d["origin"],
        nationality=d["nationality"],
        people=int(d["people"]),
        household_size={int(k): float(v) for k, v in d["household_size"].items()},
        family_share=d["family_share"],
        minor_share=d["minor_share"],
        destinations=dict(d["destinations"]),
        knows=None if d["knows"] is None else tuple(d["knows"]),
        relatives=dict(d["relatives"]),
        visa=dict(d["visa"]),
        resident_of=d["resident_of"],
        budget_usd=d["budget_usd"],
        informed_share=d["informed_share"],
        departure=departure,
        caravan=d.get("caravan"),
    )


class Scenario:
    """A loaded, validated scenario of the default model.

    Its contents are plain Python objects: ``places``, ``routes``,
    ``cohorts``, ``policies`` and ``variants`` (tuples of dataclasses, in
    file order), ``behaviour`` (a dict), the dates ``start`` and ``end``
    (inclusive) and ``days``. A scenario is immutable: :meth:`with_values`,
    :meth:`variant` and :meth:`scaled` return new ones.
    """

    def __init__(self, handle: _native.ScenarioHandle) -> None:
        self._handle = handle
        d = json.loads(handle.describe())
        self.name: str = d["name"]
        self.description: str = d["description"]
        self.file: Path = Path(d["file"])
        self.sha256: str = d["sha256"]
        self.start: _dt.date = _date(d["start"])
        self.end: _dt.date = _date(d["end"])
        self.days: int = d["days"]
        self.seed: int = d["seed"]
        self.behaviour: Dict[str, Any] = d["behaviour"]
        self.places: Tuple[Place, ...] = tuple(Place(**p) for p in d["places"])
        self.routes: Tuple[Route, ...] = tuple(
            Route(**{("from_" if k == "from" else k): v for k, v in r.items()}) for r in d["routes"]
        )
        self.cohorts: Tuple[Cohort, ...] = tuple(_cohort(c) for c in d["cohorts"])
        self.policies: Tuple[Policy, ...] = tuple(_policy(p) for p in d["policies"])
        self.variants: Tuple[Variant, ...] = tuple(
            Variant(
                id=v["id"],
                description=v["description"],
                remove=tuple(v["remove"]),
                policies=tuple(_policy(p) for p in v["policies"]),
            )
            for v in d["variants"]
        )
        self.notes: Tuple[str, ...] = tuple(d["notes"])
        #: The figure the scenario's question is about (``sensitivity``), if it names one.
        self.headline: Optional[str] = d.get("headline")
        #: Caravans by name (cohorts naming one set out and walk together).
        self.caravans: Tuple[str, ...] = tuple(d.get("caravans", ()))
        #: The inputs the file marks as uncertain, in the order read.
        self.uncertain: Tuple[Uncertain, ...] = tuple(Uncertain(**u) for u in d.get("uncertain", ()))

    @property
    def people(self) -> int:
        """People over all cohorts."""
        return sum(c.people for c in self.cohorts)

    def parameters(self) -> Dict[str, Parameter]:
        """Every parameter :meth:`with_values` and :func:`sweep` accept, by path."""
        return {p[0]: Parameter(*p) for p in self._handle.parameters()}

    def with_values(self, values: Mapping[str, float]) -> "Scenario":
        """A copy with numeric fields set by path, e.g.
        ``{"policy.rcmp_between_ports.detection_rate": 0.8, "population.roxham_flow.people": 20000}``.

        The paths are those of ``northbound sweep --param`` (see
        :meth:`parameters`); whole-number fields are rounded. Raises
        :class:`ParameterError` for an unknown path or a value out of range.
        """
        if not isinstance(values, Mapping):
            raise TypeError("with_values takes a mapping of parameter paths to numbers")
        pairs = []
        for path, v in values.items():
            try:
                pairs.append((str(path), float(v)))
            except (TypeError, ValueError):
                raise ParameterError(f"`{path}` = {v!r}: a number is needed") from None
        return Scenario(self._handle.with_values(pairs))

    def variant(self, id: str) -> "Scenario":
        """The scenario under one of its declared variants (its policies
        removed, replaced or added); its agents and seeds are the base's."""
        return Scenario(self._handle.variant(id))

    def scaled(self, factor: float) -> "Scenario":
        """The same system at another size (``--scale``): people, per-day
        departures, capacities, daily claim limits, appointment slots and
        pathway quotas multiplied by ``factor``."""
        return Scenario(self._handle.scaled(float(factor)))

    def output_names(self) -> List[str]:
        """The columns of :attr:`Run.outputs` for this scenario: each final
        state, each event, and ``metric@place`` flows over the run."""
        return list(self._handle.output_names())

    def policy(self, id: str) -> Policy:
        """A policy by id."""
        for p in self.policies:
            if p.id == id:
                return p
        raise KeyError(f"no policy `{id}`; declared: {', '.join(p.id for p in self.policies)}")

    def place(self, id: str) -> Place:
        """A place by id."""
        for p in self.places:
            if p.id == id:
                return p
        raise KeyError(f"no place `{id}`")

    def __repr__(self) -> str:
        return (
            f"<Scenario {self.name!r}: {self.start} to {self.end} ({self.days} days), "
            f"{len(self.places)} places, {len(self.cohorts)} cohorts ({self.people} people), "
            f"{len(self.policies)} policies, {len(self.variants)} variants>"
        )


def load(path: PathLike) -> Scenario:
    """Loads and validates a scenario file (TOML), as ``northbound check`` does.

    Raises :class:`ScenarioError` with every problem of the file (file, line,
    column, field, message; ``str(error)`` is what the command line prints).
    """
    return Scenario(_native.load(os.fspath(path)))


def _scenario(s: ScenarioLike) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if isinstance(s, (str, os.PathLike)):
        return load(s)
    raise TypeError(f"expected a Scenario or the path of a scenario file, got {type(s).__name__}")


def _prepared(s: ScenarioLike, scale: float, variant: Optional[str] = None) -> Scenario:
    sc = _scenario(s)
    if scale != 1.0:
        sc = sc.scaled(scale)
    if variant is not None:
        sc = sc.variant(variant)
    return sc


@contextmanager
def _reporter(progress: Progress, desc: str, unit: str) -> Iterator[Optional[Callable[[int, int], Any]]]:
    if progress is None or progress is False:
        yield None
    elif progress is True:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
        except ImportError as e:
            raise ImportError(
                "progress=True draws a tqdm bar: pip install tqdm (or pass a function progress(done, total))"
            ) from e
        bar = tqdm(total=None, desc=desc, unit=unit, leave=False)

        def update(done: int, total: int) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            yield update
        finally:
            bar.close()
    elif callable(progress):
        yield progress
    else:
        raise TypeError("progress is True, False, None or a function progress(done, total)")


# -------------------------------------------------------------------- tables


def _frame(columns: Iterable[Tuple[str, str, Any]]) -> pd.DataFrame:
    """A DataFrame from the native columns: integers, floats, booleans, categories and dates."""
    data: Dict[str, Any] = {}
    for name, kind, values in columns:
        if kind == "cat":
            codes, categories = values
            data[name] = pd.Categorical.from_codes(codes, categories=categories)
        elif kind == "date":
            data[name] = values.astype("datetime64[D]").astype("datetime64[ns]")
        else:
            data[name] = values
    return pd.DataFrame(data)


class Run:
    """A finished run (or replicates of one), kept in memory.

    Its tables are the files ``northbound run`` writes, as DataFrames with
    the same columns: ``places``, ``outcomes``, ``events``, ``routes``,
    ``periods`` (calendar weeks or months, ``period=``), and
    ``cohort_places`` (``by_cohort=True``) and ``trace`` (``trace=N``) when
    asked for. Dates are ``datetime64[ns]``, counts ``int64``, ids
    categories. With replicates, each table but ``periods`` (whose figures
    are over the replicates) starts with a ``replicate`` column. A table the
    run does not have is not an attribute (``hasattr(run, "trace")``
    tells).
    """

    TABLES: Tuple[str, ...] = ("places", "outcomes", "events", "routes", "periods", "cohort_places", "trace")

    def __init__(self, handle: _native.RunHandle, scenario: Scenario) -> None:
        self._handle = handle
        self._tables: Dict[str, pd.DataFrame] = {}
        self.scenario = scenario
        self.seeds: List[int] = list(handle.seeds())
        self.seed: int = self.seeds[0]
        self.replicates: int = len(self.seeds)

    @property
    def table_names(self) -> Tuple[str, ...]:
        """The tables this run has."""
        return tuple(self._handle.table_names())

    def table(self, name: str) -> pd.DataFrame:
        """A table by name (a copy: change it freely)."""
        if name not in self._tables:
            columns = self._handle.table(name)
            if columns is None:
                hint = {
                    "trace": "run with trace=N to follow N groups",
                    "cohort_places": "run with by_cohort=True",
                }.get(name, f"tables: {', '.join(self.table_names)}")
                raise AttributeError(f"this run has no {name} table ({hint})")
            self._tables[name] = _frame(columns)
        return self._tables[name].copy()

    @property
    def places(self) -> pd.DataFrame:
        """People per place and day: present, arrived, departed, claims,
        turned_back, expelled, intercepted, detected, removed (``places.csv``)."""
        return self.table("places")

    @property
    def outcomes(self) -> pd.DataFrame:
        """Every cohort's people by final state (``outcomes.csv``)."""
        return self.table("outcomes")

    @property
    def events(self) -> pd.DataFrame:
        """Person-events and distinct people per cohort and event (``events.csv``)."""
        return self.table("events")

    @property
    def routes(self) -> pd.DataFrame:
        """People who set out on each leg over the run, with the ends' coordinates (``routes.csv``)."""
        return self.table("routes")

    @property
    def periods(self) -> pd.DataFrame:
        """Every place's figures per calendar period (``periods.csv``): the
        period (ISO week ``2023-W13``, Monday to Sunday, or month
        ``2023-03``, as ``period=`` asked), its first and last date inside
        the run, its days, whether it is whole (``complete``, a bool: the
        first and last may be cut by the run), the place, the figure
        (``arrived``, ``departed``, ``claims``, ``turned_back``,
        ``expelled``, ``intercepted``, ``detected``, ``removed`` summed over
        the period, or ``present_peak``), then ``mean``, ``sd``, ``lo95``
        and ``hi95`` over replicates of each replicate's value in the
        period (one run: the value, sd 0)."""
        return self.table("periods")

    @property
    def cohort_places(self) -> pd.DataFrame:
        """The places table per cohort (``cohort_places.csv``; ``by_cohort=True``)."""
        return self.table("cohort_places")

    @property
    def trace(self) -> pd.DataFrame:
        """The day-by-day state and place (or route) of the traced groups, their target, whether they know the rules, the door that failed them last (and its day) and the countries that bar them (``trace.csv``; ``trace=N``)."""
        return self.table("trace")

    @property
    def outputs(self) -> pd.DataFrame:
        """Named outputs, one row per replicate (indexed by replicate): people
        in each final state (``claimed_ca``, …), person-events of each kind
        (``turned_back``, …) and each place's flows over the run
        (``claims@lacolle``, ``arrived@yul``, …) — the figures ``compare``
        compares. The columns are :meth:`Scenario.output_names`."""
        return _frame(self._handle.outputs()).set_index("replicate")

    @property
    def summary(self) -> Dict[str, Any]:
        """``summary.json`` as a dict (without the tables' hashes, which
        exist only once written). With replicates: ``{"replicates": n,
        "seeds": [...], "runs": [one summary per replicate]}``."""
        s: Any = json.loads(self._handle.summary_json())
        if isinstance(s, list):
            for one in s:
                one.pop("tables", None)
            return {"replicates": len(s), "seeds": list(self.seeds), "runs": s}
        s.pop("tables", None)
        return dict(s)

    def write(self, dir: PathLike, *, force: bool = False) -> Path:
        """Writes the run folder ``northbound run`` writes (tables,
        ``summary.json``, ``periods.csv``, ``policies.csv``,
        ``places.geojson``, ``flows.geojson``, ``summary.md``,
        ``datapackage.json``, ``report.html``; with replicates,
        ``replicate-K/`` and the summaries with intervals) through the
        library's own output folder: built aside and swapped in whole, with
        its manifest. Returns its path.

        Replaces only what northbound wrote, as the command line does
        (``docs/outputs.md``): a folder that is not northbound's (no
        ``.northbound.json``), a file, ``.``, the home folder, the current
        folder or one containing it, or a folder holding the scenario is
        refused with :class:`OutputError` before anything is written or
        deleted; ``force=True`` (``--force``) also replaces a northbound
        folder to which files were added or in which files were changed."""
        return Path(self._handle.write(os.fspath(dir), force=force))

    def __repr__(self) -> str:
        reps = f", {self.replicates} replicates" if self.replicates > 1 else ""
        return f"<Run of {self.scenario.name!r}, seed {self.seed}{reps}; tables: {', '.join(self.table_names)}>"


def run(
    scenario: ScenarioLike,
    seed: Optional[int] = None,
    replicates: int = 1,
    threads: Optional[int] = None,
    scale: float = 1.0,
    variant: Optional[str] = None,
    trace: int = 0,
    by_cohort: bool = False,
    period: str = "week",
    fixed_inputs: bool = False,
    progress: Progress = None,
) -> Run:
    """Runs a scenario, as ``northbound run`` does, and keeps its tables in memory.

    ``seed`` overrides the scenario's; ``replicates > 1`` runs replicates
    with derived seeds (``run --replicates N``), each drawing the
    scenario's uncertain inputs (a Latin hypercube over the replicates)
    unless ``fixed_inputs=True`` (``--fixed-inputs``: then replicate 0 is
    the single run itself); ``threads`` defaults to all cores (results do not depend on it);
    ``scale`` runs the same system at another size; ``variant`` runs the
    scenario under one of its declared variants; ``trace=N`` follows N
    groups day by day; ``by_cohort`` keeps the places table per cohort;
    ``period`` (``"week"``, Monday to Sunday, or ``"month"``; ``--period``)
    sets the calendar periods of :attr:`Run.periods` and of the written
    folder; ``progress`` (see :data:`Progress`) shows how far it is. The
    GIL is released while the engine runs; Ctrl-C stops it.
    """
    sc = _prepared(scenario, scale, variant)
    unit = "day" if int(replicates) == 1 else "run"
    with _reporter(progress, sc.name, unit) as report:
        handle = _native.run(
            sc._handle,
            seed=seed,
            replicates=int(replicates),
            threads=threads,
            trace=int(trace),
            by_cohort=bool(by_cohort),
            period=str(period),
            fixed_inputs=bool(fixed_inputs),
            progress=report,
        )
    return Run(handle, sc)


# --------------------------------------------------------------- experiments


class Comparison:
    """Variants compared with the base (``northbound compare``).

    ``table`` is ``comparison.csv`` (unrounded): per variant, each final
    state and each place's flows, the base's and the variant's means over
    replicates and the mean paired difference with its 95 % t interval
    (``diff_lo95``, ``diff_hi95``). ``place_differences`` is
    ``place_differences.csv``: every place's flows over ``window`` (the
    whole run unless ``window=`` was given), with the same paired
    differences; ``periods`` is ``periods.csv``: the base's and every
    variant's figures per calendar period. :meth:`run` gives the
    replicates behind it as a :class:`Run`.
    """

    def __init__(self, handle: _native.CompareHandle, scenario: Scenario, replicates: int) -> None:
        self._handle = handle
        self.scenario = scenario
        self.replicates = replicates
        self.variants: Tuple[str, ...] = tuple(handle.variant_ids())
        self.table: pd.DataFrame = _frame(handle.table())
        a, z = handle.window
        self.window: Tuple[_dt.date, _dt.date] = (_date(a), _date(z))
        self._periods: Optional[pd.DataFrame] = None
        self._differences: Optional[pd.DataFrame] = None

    @property
    def place_differences(self) -> pd.DataFrame:
        """Every place's flows over :attr:`window`, each variant against the
        base (``place_differences.csv``): ``variant``, ``place``, ``metric``
        (``arrived``, ``claims``, ``turned_back``, ``expelled``,
        ``intercepted``, ``detected``, ``removed``), ``from``, ``until``,
        ``base``, ``mean``, ``diff``, ``diff_lo95``, ``diff_hi95``
        (unrounded); figures that are zero in both are left out."""
        if self._differences is None:
            self._differences = _frame(self._handle.place_differences())
        return self._differences.copy()

    @property
    def periods(self) -> pd.DataFrame:
        """The base's and every variant's figures per calendar period
        (``periods.csv`` of the comparison: :attr:`Run.periods` with a
        leading ``variant`` column, ``base`` first)."""
        if self._periods is None:
            self._periods = _frame(self._handle.periods())
        return self._periods.copy()

    def run(self, variant: Optional[str] = None) -> Run:
        """The replicates of the base (``None``) or of a variant, with their tables."""
        h = self._handle.run(variant)
        if h is None:
            raise KeyError(f"no variant `{variant}` in this comparison; compared: {', '.join(self.variants)}")
        return Run(h, self.scenario if variant is None else self.scenario.variant(variant))

    def write(self, dir: PathLike, *, force: bool = False) -> Path:
        """Writes the folder ``northbound compare`` writes (with its
        ``periods.csv``, ``place_differences.csv``, GeoJSON, ``summary.md``,
        ``datapackage.json`` and report); returns its path. The same rules
        as :meth:`Run.write`."""
        return Path(self._handle.write(os.fspath(dir), force=force))

    def __str__(self) -> str:
        return self._handle.render()

    def __repr__(self) -> str:
        return f"<Comparison of {self.scenario.name!r}: base against {', '.join(self.variants)} ({self.replicates} replicates)>"


def compare(
    scenario: ScenarioLike,
    variants: Optional[Sequence[str]] = None,
    replicates: int = 10,
    threads: Optional[int] = None,
    scale: float = 1.0,
    period: str = "week",
    window: Union[str, Tuple[Union[str, _dt.date], Union[str, _dt.date]], None] = None,
    fixed_inputs: bool = False,
    progress: Progress = None,
) -> Comparison:
    """Runs the base and each variant (all declared ones by default) with
    common random numbers — replicate k of each uses the same seed — and
    compares them, as ``northbound compare`` does.

    ``period`` (``"week"`` or ``"month"``) sets the calendar periods of
    :attr:`Comparison.periods`; ``window`` (``--window``), as
    ``"2023-04-01..2023-06-30"`` or a pair of dates, the days over which
    :attr:`Comparison.place_differences` sums each place's flows (default:
    the whole run; both dates inside it). Replicate k of the base and of
    every variant draws the same values of the scenario's uncertain inputs
    (paired), unless ``fixed_inputs=True`` (``--fixed-inputs``) keeps them
    at their values."""
    sc = _prepared(scenario, scale)
    if isinstance(variants, str):
        variants = [variants]
    if window is not None and not isinstance(window, str):
        try:
            a, z = window
        except (TypeError, ValueError):
            raise TypeError('window is "FROM..UNTIL" or a pair of dates') from None
        window = f"{a}..{z}"
    with _reporter(progress, f"{sc.name}: compare", "run") as report:
        handle = _native.compare(
            sc._handle,
            variants=list(variants or []),
            replicates=int(replicates),
            threads=threads,
            period=str(period),
            window=window,
            fixed_inputs=bool(fixed_inputs),
            progress=report,
        )
    return Comparison(handle, sc, int(replicates))


class Sweep:
    """A parameter sweep or study (``northbound sweep``): ``table`` has a
    row per design point, a column per parameter, then the mean and 95 %
    range over replicates of each final state and each event
    (``claimed_ca_mean``, ``claimed_ca_lo95``, …); ``runs`` has a row per
    point and replicate (``runs.csv``: point, replicate, seed, the
    parameters, every headline output and each named metric)."""

    def __init__(self, handle: _native.SweepHandle, scenario: Scenario, parameters: Sequence[str], replicates: int, design: str = "grid") -> None:
        self._handle = handle
        self.scenario = scenario
        self.parameters: Tuple[str, ...] = tuple(parameters)
        self.replicates = replicates
        self.design = design
        self.table: pd.DataFrame = _frame(handle.table())
        self.runs: pd.DataFrame = _frame(handle.runs())

    def csv(self) -> str:
        """``sweep.csv`` as the command line writes it (3 decimals)."""
        return self._handle.csv()

    def write(self, dir: PathLike, *, force: bool = False) -> Path:
        """Writes the folder ``northbound sweep`` writes (``sweep.csv``,
        ``sweep_long.csv``, ``runs.csv``, ``design.csv``, ``problem.json``,
        ``summary.md``, ``datapackage.json``, the report); returns its path.
        The same rules as :meth:`Run.write`."""
        return Path(self._handle.write(os.fspath(dir), force=force))

    def __str__(self) -> str:
        return self._handle.render()

    def __repr__(self) -> str:
        return f"<Sweep of {self.scenario.name!r} ({self.design}) over {', '.join(self.parameters)}: {len(self.table)} points × {self.replicates} replicates>"


def sweep(
    scenario: ScenarioLike,
    params: Mapping[str, Union[str, Sequence[float]]],
    replicates: int = 5,
    threads: Optional[int] = None,
    scale: float = 1.0,
    progress: Progress = None,
    design: str = "grid",
    metrics: Sequence[str] = (),
) -> Sweep:
    """Runs a scenario at the points of a design with replicates at every
    point (replicate k with the same seed at every point), as ``northbound
    sweep`` does.

    ``design`` is ``"grid"`` (default), ``"lhs:N"``, ``"sobol:N"`` or
    ``"morris:R"``. For a grid, ``params`` maps each parameter path to
    ``"FROM:TO:STEP"`` (the command's syntax) or to a sequence of values,
    e.g. ``{"policy.rcmp_between_ports.detection_rate": "0.5:1:0.25"}``;
    for the other designs to ``"LO:HI"``. ``metrics`` are ``--metric``s
    (``"claims@roxham_road:2023-04-01..2023-06-30"``). Every value is
    checked against the parameter's range before anything runs. The result's
    ``runs`` is ``runs.csv`` as a DataFrame. What the command warns of
    before it runs (a ``sobol:N`` design whose N is small or not a power of
    two) comes as :class:`NorthboundWarning`.
    """
    for w in _native.design_warnings(str(design)):
        warnings.warn(w, NorthboundWarning, stacklevel=2)
    sc = _prepared(scenario, scale)
    if not isinstance(params, Mapping) or not params:
        raise ValueError('sweep needs params: {path: "FROM:TO:STEP" or [values], ...}')
    axes: List[Tuple[str, Union[str, List[float]]]] = []
    for path, spec in params.items():
        if isinstance(spec, str):
            axes.append((str(path), spec))
        else:
            axes.append((str(path), [float(v) for v in spec]))
    with _reporter(progress, f"{sc.name}: sweep", "point") as report:
        handle = _native.sweep(
            sc._handle,
            axes,
            design=str(design),
            metrics=[str(m) for m in metrics],
            replicates=int(replicates),
            threads=threads,
            progress=report,
        )
    return Sweep(handle, sc, [a[0] for a in axes], int(replicates), str(design))


class Validation:
    """A scenario against counted targets (``northbound validate``).

    ``table`` has one row per target: what it counts, its window, the
    observed value, the simulated mean with its 2.5–97.5 % range over
    replicates, and the relative error. ``mare`` is the mean absolute
    relative error; ``persistence`` the naive forecast's error where a
    target has an earlier period of the same series.
    """

    def __init__(self, handle: _native.ValidationHandle, scenario: Scenario, replicates: int) -> None:
        self._handle = handle
        self.scenario = scenario
        self.replicates = replicates
        self.table: pd.DataFrame = _frame(handle.table())
        self.mare: float = handle.mare
        p = handle.persistence
        self.persistence: Optional[Dict[str, float]] = (
            None if p is None else {"persistence_error": p[0], "model_error": p[1], "targets": p[2]}
        )

    def __str__(self) -> str:
        return self._handle.render()

    def __repr__(self) -> str:
        return f"<Validation of {self.scenario.name!r}: {len(self.table)} targets, MARE {self.mare:.3f}>"


def validate(
    scenario: ScenarioLike,
    targets: PathLike,
    replicates: int = 5,
    threads: Optional[int] = None,
    scale: float = 1.0,
    progress: Progress = None,
) -> Validation:
    """Compares a scenario's replicates with a targets file (``[[target]]``
    tables), as ``northbound validate --targets`` does. A bad targets file
    raises :class:`ScenarioError` with its problems."""
    sc = _prepared(scenario, scale)
    with _reporter(progress, f"{sc.name}: validate", "run") as report:
        handle = _native.validate(
            sc._handle, os.fspath(targets), replicates=int(replicates), threads=threads, progress=report
        )
    return Validation(handle, sc, int(replicates))


def import_flee(dir: PathLike, out: Optional[PathLike] = None, flee_compat: Optional[str] = None) -> str:
    """A Flee scenario folder (``input_csv/``, ``source_data/``,
    ``simsetting.yml``) as a northbound scenario, as ``northbound
    import-flee`` does: returns the TOML text and, with ``out``, writes it
    there (an existing file is replaced only if northbound wrote it: its
    first line is northbound's; otherwise :class:`OutputError` before the
    import). ``flee_compat="3.1"`` reproduces Flee 3.1's bugs where they
    change results. What the command prints as warnings (settings Flee
    ignores, names it skips) comes as :class:`NorthboundWarning`."""
    text, notes = _native.import_flee(
        os.fspath(dir),
        flee_compat=flee_compat,
        out=None if out is None else os.fspath(out),
    )
    for n in notes:
        warnings.warn(n, NorthboundWarning, stacklevel=2)
    return text


def replicate_seed(seed: int, k: int) -> int:
    """The seed of replicate ``k`` of a run with ``seed`` (replicate 0 is the
    run itself), as ``--replicates`` derives it."""
    return _native.replicate_seed(int(seed), int(k))
