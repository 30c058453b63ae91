"""When a fit's scatter may rescale its errors: the χ² rule every fit of the analysis follows.

The point errors are measured (each width comes with the error of its image fit), so a fit
takes them as they are. Only when χ² is improbably large for its degrees of freedom — the
model or the errors are wrong — are the parameter errors scaled by √χ²_red; with few degrees
of freedom χ²_red scatters so much (dof = 1: anywhere in 0.004…3.8 at 95 %) that scaling by it
would turn honest errors into noise, so below MIN_DOF nothing is scaled.
"""

from __future__ import annotations

import math

from scipy.special import chdtrc  # the χ² upper tail (what scipy.stats' chi2.sf evaluates)

MIN_DOF = 5
#: χ² beyond this upper-tail probability counts as a misfit
MISFIT_P = 0.01


def chi2_scale(chi2: float, dof: int) -> float:
    """Factor for a covariance: χ²_red after a significant misfit, else 1."""
    if dof < MIN_DOF or not math.isfinite(chi2):
        return 1.0
    if float(chdtrc(dof, chi2)) >= MISFIT_P:
        return 1.0
    return max(chi2 / dof, 1.0)
