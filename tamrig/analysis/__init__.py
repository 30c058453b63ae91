"""The science of a scan: the spot fit, the live monitor, time zero and the offline analysis.

:func:`fit_gaussian` measures the spot width σ of one ΔT/T image (:mod:`.fitting`);
:class:`~tamrig.analysis.monitor.LiveMonitor` follows σ², MSD and D point by point during a
scan; :func:`analyse_points` turns a finished scan's columns into transport results
(:mod:`.summary`, with :mod:`.timezero`, :mod:`.powerlaw`, :mod:`.peak`, :mod:`.regimes`).
Plain arrays in, dataclasses out: nothing here touches hardware, files or Qt.
"""

from tamrig.analysis.fitting import fit_gaussian
from tamrig.analysis.summary import AnalysisSettings, ScanAnalysis, analyse_points

__all__ = ["AnalysisSettings", "ScanAnalysis", "analyse_points", "fit_gaussian"]
