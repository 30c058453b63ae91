"""Find scan files and group what they hold into series: (sample, probe wavelength, fluence).

A campaign spreads over many files: one per sample and fluence, or one per sample with a
fluence series inside, repeated on other days. Grouping reads only the small per-point
columns and the metadata, never the images, so it is fast on a drawer of large files.
A file that cannot be read becomes a :class:`FileProblem`, never an exception.
"""

from __future__ import annotations

import glob
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tamrig.errors import InputError, TamrigError

SCAN_SUFFIXES = (".h5", ".hdf5", ".nxs")


@dataclass(frozen=True)
class SeriesInFile:
    """One (probe wavelength, fluence) series inside a file."""

    probe_nm: float
    fluence_label: str
    n_abs: float
    fluence_uj_cm2: float
    n_points: int


@dataclass(frozen=True)
class ScanInfo:
    """What a file says about itself, enough to group it."""

    path: Path
    sample: str
    properties: dict[str, float]  # numeric sample properties (e.g. perovskite_fraction)
    status: str
    series: tuple[SeriesInFile, ...]


@dataclass(frozen=True)
class FileProblem:
    path: Path
    error: str


@dataclass(frozen=True)
class Member:
    """The part of one file that belongs to a series."""

    path: Path
    probe_nm: float
    fluence_label: str
    status: str


@dataclass(frozen=True)
class SeriesGroup:
    """All points of one sample at one probe wavelength and fluence, over every file."""

    sample: str
    probe_nm: float
    n_abs: float
    fluence_uj_cm2: float
    label: str
    properties: dict[str, float]
    members: tuple[Member, ...] = field(default=())

    @property
    def key(self) -> str:
        probe = f"{self.probe_nm:g} nm" if math.isfinite(self.probe_nm) else "probe ?"
        return f"{self.sample} | {probe} | {self.label}"


def find_scan_files(patterns: Iterable[str | Path], exclude: Path | None = None) -> list[Path]:
    """Scan files named by ``patterns``: folders (searched recursively), globs or files.

    A pattern that matches nothing is an InputError (a typo should not yield an empty
    campaign). Files under ``exclude`` (the report folder) are left out.
    """
    found: dict[Path, None] = {}
    for pattern in patterns:
        text = str(pattern)
        path = Path(text)
        if path.is_dir():
            matches = [p for p in sorted(path.rglob("*")) if p.suffix.lower() in SCAN_SUFFIXES]
        elif path.is_file():
            matches = [path]
        else:
            matches = [Path(p) for p in sorted(glob.glob(text, recursive=True))]
            matches = [p for p in matches if p.is_file()]
            if not matches:
                raise InputError(
                    "matches no file", field=text, expected="a folder, a scan file or a glob"
                )
        for match in matches:
            if not match.name.startswith("."):
                found[match.resolve()] = None
    files = list(found)
    if exclude is not None:
        root = exclude.resolve()
        files = [f for f in files if root not in f.parents]
    return files


def describe(path: Path) -> ScanInfo | FileProblem:
    """Read the sample and the series of one scan file (damage is a FileProblem)."""
    from tamrig.storage import open_scan
    from tamrig.storage.soundness import check_readable_scan

    try:
        check_readable_scan(path)  # read-only, as analyze: damaged or cut files are named
        with open_scan(path) as scan:
            metadata = scan.metadata or {}
            rig = scan.rig or {}
            points = scan.points()
            status = scan.status
    except TamrigError as exc:
        return FileProblem(path, str(exc))
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
        # what h5py raises on a file that is not HDF5 at all, or cut short
        return FileProblem(path, f"{path}: unreadable scan file ({exc})")
    return ScanInfo(
        path=path,
        sample=sample_name(metadata, rig, path),
        properties=sample_properties(metadata),
        status=status,
        series=_series(points),
    )


def sample_name(metadata: Mapping[str, Any], rig: Mapping[str, Any], path: Path) -> str:
    """The plan's sample name, else the simulated sample's preset, else the file name."""
    sample = metadata.get("sample")
    if isinstance(sample, Mapping):
        for key in ("name", "preset", "label"):
            if sample.get(key):
                return str(sample[key])
    sim = rig.get("simulation", {}) if isinstance(rig, Mapping) else {}
    preset = sim.get("sample", {}).get("preset") if isinstance(sim, Mapping) else None
    return str(preset) if preset else path.stem


def sample_properties(metadata: Mapping[str, Any]) -> dict[str, float]:
    """Numeric sample properties the operator recorded (``[sample.metadata]`` of the plan,
    and the absorption settings): candidates for a figure's x axis."""
    sample = metadata.get("sample")
    if not isinstance(sample, Mapping):
        return {}
    out: dict[str, float] = {}
    sources: list[Mapping[str, Any]] = [sample]
    if isinstance(sample.get("metadata"), Mapping):
        sources.append(sample["metadata"])
    for source in sources:
        for key, value in source.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value):
                out[str(key)] = float(value)
    return out


def _series(points: Mapping[str, np.ndarray]) -> tuple[SeriesInFile, ...]:
    n = len(points.get("delay_fs", []))
    if n == 0:
        return ()
    probe = _floats(points, "probe_wavelength_nm", n)
    n_abs = _floats(points, "n_abs", n)
    fluence = fluence_column(points, n)
    labels = _labels(points, n)
    out = []
    keys = sorted(
        {(round(p, 3) if math.isfinite(p) else math.nan, lab) for p, lab in zip(probe, labels)},
        key=str,
    )
    for p, lab in keys:
        same_probe = np.isnan(probe) if math.isnan(p) else np.isclose(probe, p, atol=1e-3)
        idx = same_probe & (labels == lab)
        out.append(
            SeriesInFile(
                probe_nm=float(p),
                fluence_label=str(lab),
                n_abs=_median(n_abs[idx]),
                fluence_uj_cm2=_median(fluence[idx]),
                n_points=int(idx.sum()),
            )
        )
    return tuple(out)


def fluence_column(points: Mapping[str, Any], n: int) -> np.ndarray:
    """Peak pump fluence in µJ/cm² per point (whichever name the file uses), NaN if none."""
    for key in ("fluence_uj_cm2", "fluence_target", "fluence"):
        if key in points:
            return np.asarray(points[key], dtype=float)
    return np.full(n, np.nan)


def _floats(points: Mapping[str, Any], key: str, n: int) -> np.ndarray:
    return np.asarray(points[key], dtype=float) if key in points else np.full(n, np.nan)


def _labels(points: Mapping[str, Any], n: int) -> np.ndarray:
    if "fluence_label" not in points:
        return np.array([""] * n, dtype=object)
    values = np.asarray(points["fluence_label"]).ravel()
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values], dtype=object)


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan


def _fluence_key(s: SeriesInFile) -> tuple[str, float | str]:
    """Series of two files are the same fluence when ⟨N_abs⟩ (else the fluence, else the
    label) agrees to three significant digits."""
    for kind, value in (("n_abs", s.n_abs), ("fluence", s.fluence_uj_cm2)):
        if math.isfinite(value) and value > 0:
            return kind, float(f"{value:.3g}")
    return "label", s.fluence_label


def group_series(infos: Iterable[ScanInfo]) -> list[SeriesGroup]:
    """One group per (sample, probe wavelength, fluence), members from every file."""
    groups: dict[tuple[Any, ...], list[tuple[ScanInfo, SeriesInFile]]] = {}
    for info in infos:
        for s in info.series:
            probe = round(s.probe_nm, 1) if math.isfinite(s.probe_nm) else "?"
            groups.setdefault((info.sample, probe, _fluence_key(s)), []).append((info, s))
    out = []
    for (sample, _, fkey), parts in groups.items():
        first = parts[0][1]
        properties: dict[str, float] = {}
        for info, _ in parts:
            properties.update(info.properties)
        n_abs = _median(np.array([s.n_abs for _, s in parts]))
        fluence = _median(np.array([s.fluence_uj_cm2 for _, s in parts]))
        if fkey[0] == "n_abs":
            label = f"N_abs {n_abs:.3g}"
        elif fkey[0] == "fluence":
            label = f"{fluence:.3g} µJ/cm²"
        else:
            label = first.fluence_label or "fluence ?"
        members = tuple(
            Member(info.path, s.probe_nm, s.fluence_label, info.status) for info, s in parts
        )
        out.append(SeriesGroup(sample, first.probe_nm, n_abs, fluence, label, properties, members))
    out.sort(key=lambda g: (g.sample, _nan_last(g.probe_nm), _nan_last(g.n_abs), g.label))
    return out


def _nan_last(x: float) -> float:
    return x if math.isfinite(x) else math.inf
