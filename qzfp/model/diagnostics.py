"""What the population engine had to do that a planner should know: counted, never silent.

A county taking its area's census row, a mortality fit set at the e0 band's edge, a backward
step that stopped before converging, out-migration capped at the survivors of a cohort, and
Monte Carlo paths whose TFR or e0 had to be clipped are counted in :class:`Diagnostics`.  The
population page lists them, ``run.json`` holds them (:meth:`Diagnostics.to_dict`) and the
commands print one warning line each (:meth:`Diagnostics.warnings`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import Problem

__all__ = ["Diagnostics"]


@dataclass(frozen=True)
class Diagnostics:
    """Counts of the engine's fallbacks, bounds, caps and clips.

    Attributes
    ----------
    fallback : tuple of (code, source, source_code)
        Counties the census table does not list, with the row they took instead
        (``prefecture``, ``province`` or ``national``).
    e0_bounded : tuple of (code, e0)
        Counties whose census death rate needed a life expectancy outside the plausible
        band; e0 (both sexes) [year] was set to the band's edge.
    back_steps, back_not_converged : int
        Backward (inverse) steps taken while moving the census to earlier dates, and how many
        stopped at the iteration limit before the residual fell below the tolerance.
    back_residual : float
        Largest relative residual a backward step left (0 when all converged).
    capped_base, capped : int
        Age–sex cells (× years × paths) whose out-migration was capped at the cohort's
        survivors while moving the base to the start year, and in the projection.
    paths : int
        Monte Carlo paths drawn (0 for a projection without paths).
    tfr_floored, e0_clipped : int
        Path-years whose drawn TFR was floored at 0, and whose drawn life expectancy was
        clipped into 20..100 years.
    """

    fallback: tuple = ()
    e0_bounded: tuple = ()
    back_steps: int = 0
    back_not_converged: int = 0
    back_residual: float = 0.0
    capped_base: int = 0
    capped: int = 0
    paths: int = 0
    tfr_floored: int = 0
    e0_clipped: int = 0

    def replace(self, **changes: object) -> Diagnostics:
        """A copy with some counts changed."""
        return dataclasses.replace(self, **changes)

    @property
    def clean(self) -> bool:
        """True when nothing had to be bounded, capped, clipped or taken from another row."""
        return not (self.fallback or self.e0_bounded or self.back_not_converged or self.capped_base
                    or self.capped or self.tfr_floored or self.e0_clipped)

    def warnings(self, names: dict[str, str] | None = None) -> list[Problem]:
        """One problem per kind of event (location ``population``), for warning lines and pages.

        Parameters
        ----------
        names : dict, optional
            County code -> name shown beside the codes.
        """
        names = names or {}

        def who(codes: list[str]) -> str:
            shown = [f"{c} {names[c]}" if names.get(c) else c for c in codes[:8]]
            return ", ".join(shown) + (f" (+{len(codes) - 8})" if len(codes) > 8 else "")

        out: list[Problem] = []
        if self.fallback:
            out.append(Problem("population", "diag.fallback", n=len(self.fallback),
                               counties=", ".join(f"{c} → {row} {code}" for c, row, code in self.fallback[:8])
                               + (f" (+{len(self.fallback) - 8})" if len(self.fallback) > 8 else "")))
        if self.e0_bounded:
            out.append(Problem("population", "diag.e0_bounded", n=len(self.e0_bounded),
                               counties=who([f"{c} e0={e:.1f}" for c, e in self.e0_bounded])))
        if self.back_not_converged:
            out.append(Problem("population", "diag.back_not_converged", n=self.back_not_converged,
                               steps=self.back_steps, residual=self.back_residual))
        if self.capped_base or self.capped:
            out.append(Problem("population", "diag.capped", base=self.capped_base, projection=self.capped))
        if self.tfr_floored or self.e0_clipped:
            out.append(Problem("population", "diag.mc_clipped", tfr=self.tfr_floored, e0=self.e0_clipped,
                               paths=self.paths))
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Diagnostics:
        """The inverse of :meth:`to_dict` (``run.json`` back to counts)."""
        return cls(
            fallback=tuple((x["code"], x["row"], x["row_code"]) for x in d.get("fallback", [])),
            e0_bounded=tuple((x["code"], float(x["e0"])) for x in d.get("e0_bounded", [])),
            back_steps=int(d.get("backward_steps", 0)),
            back_not_converged=int(d.get("backward_not_converged", 0)),
            back_residual=float(d.get("backward_largest_residual", 0.0)),
            capped_base=int(d.get("outmigration_capped_base_cells", 0)),
            capped=int(d.get("outmigration_capped_cells", 0)),
            paths=int(d.get("monte_carlo_paths", 0)),
            tfr_floored=int(d.get("monte_carlo_tfr_floored_path_years", 0)),
            e0_clipped=int(d.get("monte_carlo_e0_clipped_path_years", 0)),
        )

    def to_dict(self) -> dict[str, object]:
        """Plain values for ``run.json``."""
        return {
            "fallback": [{"code": c, "row": src, "row_code": sc} for c, src, sc in self.fallback],
            "e0_bounded": [{"code": c, "e0": round(float(e), 3)} for c, e in self.e0_bounded],
            "backward_steps": int(self.back_steps),
            "backward_not_converged": int(self.back_not_converged),
            "backward_largest_residual": float(self.back_residual),
            "outmigration_capped_base_cells": int(self.capped_base),
            "outmigration_capped_cells": int(self.capped),
            "monte_carlo_paths": int(self.paths),
            "monte_carlo_tfr_floored_path_years": int(self.tfr_floored),
            "monte_carlo_e0_clipped_path_years": int(self.e0_clipped),
        }
