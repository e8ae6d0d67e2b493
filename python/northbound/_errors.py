"""The exceptions northbound raises (the native half raises these classes).

Bad input is a ``ValueError`` (the command line's exit code 2): a scenario
or targets file with problems (:class:`ScenarioError`), a parameter path or
value out of range (:class:`ParameterError`), a bad argument or a run too
big for memory or for 32-bit agent ids (plain ``ValueError``, before any
work). A failure of northbound's own is a :class:`RunError` (exit code 1);
an output folder that cannot be written, or a destination northbound must
not replace, an :class:`OutputError`.
Ctrl-C stops a run and raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple


class NorthboundError(Exception):
    """Base class of northbound's own exceptions."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where, which field, what, what would be valid.

    ``line`` and ``column`` count from 1 (``None`` for a problem of the file
    as a whole, such as a missing file); ``rendered`` is the problem as the
    command line prints it, with the offending text underlined.
    """

    file: str
    line: Optional[int]
    column: Optional[int]
    field: str
    message: str
    help: Optional[str] = None
    rendered: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.field}: {self.message}"
        return f"{text} (help: {self.help})" if self.help else text


class ScenarioError(NorthboundError, ValueError):
    """A scenario (or targets) file could not be loaded.

    ``problems`` lists every problem found, in file order (empty when the
    file could not be read at all); for a Flee folder with problems in
    several files, every file's problems (a file that could not be read is
    one problem with no line), and ``path`` is the folder. ``str(error)``
    is the whole report the command line prints.
    """

    def __init__(self, message: str, *, path: str, problems: List[Problem], rendered: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.problems = list(problems)
        self.rendered = rendered

    def __str__(self) -> str:
        return self.rendered.rstrip("\n")

    def __reduce__(self) -> Tuple[Any, Tuple[str, str, List[Problem], str]]:
        # Keeps the attributes across pickling (multiprocessing workers).
        return (_scenario_error, (self.message, self.path, self.problems, self.rendered))


def _scenario_error(message: str, path: str, problems: List[Problem], rendered: str) -> ScenarioError:
    return ScenarioError(message, path=path, problems=problems, rendered=rendered)


class ParameterError(NorthboundError, ValueError):
    """A parameter path names nothing settable, or a value is out of its range."""


class RunError(NorthboundError, RuntimeError):
    """A run failed for a reason of northbound's own (a bug: please report it)."""


class OutputError(NorthboundError, OSError):
    """An output folder or file could not be written, or the destination
    holds what northbound did not write (the command line's refusal, exit
    code 2): nothing was written or deleted. The message says why and what
    to do."""


class NorthboundWarning(UserWarning):
    """Something the user should know that does not stop the work (the
    command line's ``warning:`` lines)."""
