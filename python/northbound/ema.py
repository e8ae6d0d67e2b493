"""northbound as a model for the EMA Workbench (exploratory modelling and analysis).

:func:`model` returns an ``ema_workbench`` model whose uncertainties are
scenario parameters (by the paths of ``with_values`` and ``sweep``), whose
levers may be the scenario's policy variants and parameters, and whose
outcomes are named outputs of a run (:attr:`northbound.Run.outputs`)::

    from ema_workbench import perform_experiments
    import northbound.ema

    m = northbound.ema.model(
        "scenarios/protocol-2023.toml",
        uncertainties={"policy.rcmp_between_ports.detection_rate": (0.5, 1.0),
                       "population.roxham_flow.informed_share": (0.5, 1.0)},
        outcomes=["claimed_ca", "claimed_us", "claims@lacolle"],
        variants=True,
    )
    experiments, outcomes = perform_experiments(m, scenarios=50, policies=3)

EMA names must be Python identifiers: a parameter ``policy.x.detection_rate``
is the uncertainty ``policy_x_detection_rate`` and an output
``claims@lacolle`` the outcome ``claims_at_lacolle``; each keeps the
northbound name as its ``variable_name``.

Needs ``ema_workbench`` (``pip install 'northbound[ema]'``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import northbound as nb

__all__ = ["identifier", "model", "run_experiment"]

Ranges = Union[Mapping[str, Tuple[float, float]], Sequence[str]]
"""Parameters with ranges: ``{path: (low, high)}``, or paths alone where
the parameter's valid range is finite (a rate: [0, 1])."""

DEFAULT_OUTCOMES: Tuple[str, ...] = (
    "claimed_mx",
    "claimed_us",
    "claimed_ca",
    "entered_lawfully",
    "settled_irregular",
    "returned_home",
    "died_or_missing",
    "waiting",
    "turned_back",
    "expelled",
    "intercepted",
    "detected",
)
"""Outcomes when none are named: where people ended and the events on the way."""


def identifier(name: str) -> str:
    """The EMA name of a northbound path or output: a Python identifier."""
    ident = re.sub(r"\W", "_", name.replace("@", "_at_"))
    return ident if ident.isidentifier() else f"_{ident}"


def _marked(scenario: nb.Scenario) -> Dict[str, Tuple[float, float]]:
    # The uncertain inputs the scenario file writes with a range
    # (`{ value, range }`), by the parameter paths that set them; an input
    # named across several places (`input.<name>`) has no single path and
    # is left at its value.
    params = scenario.parameters()
    return {u.path: (u.low, u.high) for u in scenario.uncertain if u.path in params}


def _ranges(scenario: nb.Scenario, given: Ranges, what: str) -> Dict[str, Tuple[float, float]]:
    params = scenario.parameters()
    out: Dict[str, Tuple[float, float]] = {}
    items = given.items() if isinstance(given, Mapping) else [(p, None) for p in given]
    for path, rng in items:
        if path not in params:
            # The library's message, with what is settable.
            scenario.with_values({path: 0.0})
        p = params[path]
        if rng is None:
            if not p.bounded:
                raise nb.ParameterError(
                    f"{what} `{path}` has no finite range of its own ({p.min} to {p.max}); give one: {{'{path}': (low, high)}}"
                )
            rng = (p.min, p.max)
        low, high = float(rng[0]), float(rng[1])
        if not low < high:
            raise nb.ParameterError(f"{what} `{path}`: the range ({low}, {high}) is empty")
        # Both ends must be valid values of the parameter.
        scenario.with_values({path: low})
        scenario.with_values({path: high})
        out[path] = (low, high)
    return out


def run_experiment(
    scenario: nb.Scenario,
    values: Mapping[str, Any],
    outcomes: Sequence[str],
    *,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> Dict[str, float]:
    """One experiment: the scenario with ``values`` (parameter paths, and
    ``variant``: a variant id or ``"base"``), run once; its named outputs.

    Values are set on the base scenario, then the variant is applied: a
    policy the variant removes or replaces takes its values with it."""
    values = dict(values)
    variant = values.pop("variant", "base")
    sc = scenario.with_values(values) if values else scenario
    if variant not in (None, "base"):
        sc = sc.variant(str(variant))
    row = nb.run(sc, seed=seed, threads=threads).outputs.iloc[0]
    return {name: float(row[name]) for name in outcomes}


def model(
    scenario: nb.ScenarioLike,
    uncertainties: Optional[Ranges] = None,
    outcomes: Optional[Sequence[str]] = None,
    *,
    levers: Optional[Ranges] = None,
    variants: bool = False,
    replicates: int = 1,
    threads: Optional[int] = None,
    scale: float = 1.0,
    name: Optional[str] = None,
) -> Any:
    """An EMA Workbench model of a northbound scenario.

    ``uncertainties``: the parameters EMA samples, ``{path: (low, high)}``
    or paths of parameters with a finite valid range; by default, the
    uncertain inputs the scenario file writes with a range. Each experiment
    is a run (or replications) with the scenario's other uncertain inputs
    at their values: EMA, not northbound, draws what it explores. Integer parameters become ``IntegerParameter``s.
    ``outcomes``: output names (:meth:`northbound.Scenario.output_names`;
    default :data:`DEFAULT_OUTCOMES`). ``levers``: parameters EMA treats as
    policy levers; ``variants=True`` adds the lever ``variant`` over
    ``"base"`` and the scenario's declared variants. ``replicates > 1``
    gives a ``ReplicatorModel`` whose replication k runs with the seed of
    replicate k (common random numbers across experiments) and whose
    outcomes are the means over replications. Every experiment of a model
    runs replicate 0's seed otherwise, so differences between experiments
    come from their inputs, not from noise.
    """
    from ema_workbench import (  # type: ignore[import-untyped,unused-ignore]
        CategoricalParameter,
        IntegerParameter,
        Model,
        RealParameter,
        ReplicatorModel,
        ScalarOutcome,
    )

    sc = nb._prepared(scenario, scale)
    given = uncertainties if uncertainties is not None else _marked(sc)
    if not given:
        raise ValueError(
            f"{sc.name} marks no uncertain inputs; give uncertainties={{path: (low, high)}} "
            "(paths: scenario.parameters())"
        )
    unc = _ranges(sc, given, "uncertainty")
    lev = _ranges(sc, levers, "lever") if levers else {}
    if set(unc) & set(lev):
        raise ValueError(f"{', '.join(sorted(set(unc) & set(lev)))}: both an uncertainty and a lever")
    names = list(outcomes) if outcomes is not None else list(DEFAULT_OUTCOMES)
    known = set(sc.output_names())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown outcome(s) {', '.join(unknown)}; see scenario.output_names()")
    params = sc.parameters()

    def parameter(path: str, low: float, high: float) -> Any:
        if params[path].integer:
            return IntegerParameter(identifier(path), int(round(low)), int(round(high)), variable_name=path)
        return RealParameter(identifier(path), low, high, variable_name=path)

    idents = [identifier(p) for p in [*unc, *lev]] + [identifier(n) for n in names]
    if len(set(idents)) != len(idents):
        raise ValueError("two parameters or outcomes have the same EMA name; rename one")
    base_seed = sc.seed

    def function(**kwargs: Any) -> Dict[str, float]:
        replicate = int(kwargs.pop("replicate", 0))
        return run_experiment(sc, kwargs, names, seed=nb.replicate_seed(base_seed, replicate), threads=threads)

    # EMA wants a model name of letters and digits only.
    ident = re.sub(r"[^0-9A-Za-z]", "", name or sc.name) or "northbound"
    m = ReplicatorModel(ident, function=function) if replicates > 1 else Model(ident, function=function)
    m.uncertainties = [parameter(p, lo, hi) for p, (lo, hi) in unc.items()]
    lever_list: List[Any] = [parameter(p, lo, hi) for p, (lo, hi) in lev.items()]
    if variants:
        ids = ["base", *(v.id for v in sc.variants)]
        lever_list.append(CategoricalParameter("variant", ids, variable_name="variant"))
    if lever_list:
        m.levers = lever_list
    # Over replications, EMA gets each outcome's mean.
    reduce = (lambda xs: float(sum(xs)) / len(xs)) if replicates > 1 else None
    m.outcomes = [ScalarOutcome(identifier(n), variable_name=n, function=reduce) for n in names]
    if replicates > 1:
        m.replications = [{"replicate": k} for k in range(replicates)]
    return m
