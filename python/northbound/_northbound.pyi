"""Type stubs of the native half of northbound (``python/src/lib.rs``).

Use the Pythonic API in ``northbound`` instead: these are its building blocks.
A table is a list of ``(name, kind, values)`` columns: ``kind`` is ``"int"``,
``"float"``, ``"bool"`` or ``"date"`` (days since 1970-01-01) with a NumPy
array, or ``"cat"`` with ``(codes, categories)`` (code -1: missing).
"""

from os import PathLike
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union, final

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeAlias

__all__ = [
    "__version__",
    "CompareHandle",
    "RunHandle",
    "ScenarioHandle",
    "SweepHandle",
    "ValidationHandle",
    "compare",
    "design_warnings",
    "import_flee",
    "load",
    "replicate_seed",
    "run",
    "sweep",
    "validate",
]

__version__: str

_Column: TypeAlias = Tuple[
    str,
    str,
    Union[
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
        npt.NDArray[np.bool_],
        Tuple[npt.NDArray[np.int32], List[str]],
    ],
]
_Path: TypeAlias = Union[str, PathLike[str]]
_Progress: TypeAlias = Optional[Callable[[int, int], Any]]

@final
class ScenarioHandle:
    """A scenario of the default model, loaded and validated."""

    @property
    def name(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def seed(self) -> int: ...
    def describe(self) -> str: ...
    def parameters(self) -> List[Tuple[str, float, float, float, bool, bool]]: ...
    def with_values(self, values: Sequence[Tuple[str, float]]) -> ScenarioHandle: ...
    def variant(self, id: str) -> ScenarioHandle: ...
    def scaled(self, factor: float) -> ScenarioHandle: ...
    def variant_ids(self) -> List[str]: ...
    def output_names(self) -> List[str]: ...

@final
class RunHandle:
    """A finished run, or replicates of one, kept in memory."""

    @property
    def has_replicates(self) -> bool: ...
    def table_names(self) -> List[str]: ...
    def table(self, name: str) -> Optional[List[_Column]]: ...
    def outputs(self) -> List[_Column]: ...
    def summary_json(self) -> str: ...
    def seeds(self) -> List[int]: ...
    def write(self, dir: _Path, *, force: bool = False) -> Path: ...

@final
class CompareHandle:
    """Variants compared with the base."""

    @property
    def window(self) -> Tuple[str, str]: ...
    def table(self) -> List[_Column]: ...
    def periods(self) -> List[_Column]: ...
    def place_differences(self) -> List[_Column]: ...
    def render(self) -> str: ...
    def variant_ids(self) -> List[str]: ...
    def run(self, variant: Optional[str] = None) -> Optional[RunHandle]: ...
    def write(self, dir: _Path, *, force: bool = False) -> Path: ...

@final
class SweepHandle:
    """A parameter sweep."""

    def table(self) -> List[_Column]: ...
    def csv(self) -> str: ...
    def runs(self) -> List[_Column]: ...
    def render(self) -> str: ...
    def write(self, dir: _Path, *, force: bool = False) -> Path: ...

@final
class ValidationHandle:
    """A validation against counted targets."""

    @property
    def mare(self) -> float: ...
    @property
    def persistence(self) -> Optional[Tuple[float, float, int]]: ...
    def table(self) -> List[_Column]: ...
    def render(self) -> str: ...

def load(path: _Path) -> ScenarioHandle: ...
def run(
    scenario: ScenarioHandle,
    *,
    seed: Optional[int] = None,
    replicates: int = 1,
    threads: Optional[int] = None,
    trace: int = 0,
    by_cohort: bool = False,
    period: str = "week",
    fixed_inputs: bool = False,
    progress: _Progress = None,
) -> RunHandle: ...
def compare(
    scenario: ScenarioHandle,
    *,
    variants: Sequence[str] = ...,
    replicates: int = 10,
    threads: Optional[int] = None,
    period: str = "week",
    window: Optional[str] = None,
    fixed_inputs: bool = False,
    progress: _Progress = None,
) -> CompareHandle: ...
def sweep(
    scenario: ScenarioHandle,
    axes: Sequence[Tuple[str, Union[str, Sequence[float]]]],
    *,
    design: str = ...,
    metrics: Sequence[str] = ...,
    replicates: int = 5,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> SweepHandle: ...
def validate(
    scenario: ScenarioHandle,
    targets: _Path,
    *,
    replicates: int = 5,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> ValidationHandle: ...
def import_flee(
    dir: _Path, *, flee_compat: Optional[str] = None, out: Optional[_Path] = None
) -> Tuple[str, List[str]]: ...
def replicate_seed(seed: int, k: int) -> int: ...
def design_warnings(design: str) -> List[str]: ...
