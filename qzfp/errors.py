"""Errors raised for bad input.

Every error that a user can cause (a bad scenario file, a bad register, a bad
parameter value) is a :class:`QzfpError` carrying one or more :class:`Problem`
records.  Each problem names *where* (``file:row`` or ``file:key.path``) and
*what* was expected, so that the command line can print one line per problem
(``file:row-or-key: message``) and exit with status 1, never with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    location : str
        Where the problem is: ``"params/x.yaml:overrides.village.allowance"``,
        ``"villages.csv:17"`` (a 1-based line/row number as the user sees it in
        a spreadsheet), or just a file name.
    message : str
        What is wrong and what was expected.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class QzfpError(Exception):
    """Base class of all errors caused by bad input.

    Parameters
    ----------
    problems : Problem or iterable of Problem or str
        The problems found; a plain string becomes a problem without location.
    """

    def __init__(self, problems: Problem | str | Iterable[Problem | str]):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems: list[Problem] = [
            p if isinstance(p, Problem) else Problem("", str(p)) for p in problems
        ]
        super().__init__("\n".join(str(p) for p in self.problems))


class ParameterError(QzfpError):
    """A rulebook parameter or an override is malformed or out of range."""


class ScenarioError(QzfpError):
    """A scenario file is malformed (unknown key, bad override, extends cycle ...)."""


class RegisterError(QzfpError):
    """A township/village register is malformed."""


class RunError(QzfpError):
    """A notebook or report run failed (exit status 2 on the command line)."""
