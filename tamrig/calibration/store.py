"""Where a rig's fluence calibration lives, and reading/writing it as JSON.

Default file: ``calibrations/<rig-name-slug>.json`` beside the rig file, or for a rig that
ships with tamrig (the simulated one) in the user's data folder (``tamrig/calibrations``
there: the package folder is not the user's to write into); the folder can be moved with
the environment variable ``TAMRIG_CALIBRATION_DIR``, a single file chosen with
``tamrig calibrate fluence --out FILE``. A calibration taken for another pump wavelength,
repetition rate or attenuator type is refused rather than silently used.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from platformdirs import user_data_dir

from tamrig.calibration.laws import HwpLaw
from tamrig.calibration.model import FluenceCalibration
from tamrig.errors import InputError, StorageError
from tamrig.resources import is_shipped
from tamrig.rig import Rig
from tamrig.validation import validate_model

log = logging.getLogger(__name__)

CALIBRATION_DIR_ENV = "TAMRIG_CALIBRATION_DIR"


def slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text or "rig"


def calibration_dir(rig: Rig) -> Path:
    env = os.environ.get(CALIBRATION_DIR_ENV)
    if env:
        return Path(env)
    if is_shipped(rig.loaded.path):
        return Path(user_data_dir("tamrig", appauthor=False)) / "calibrations"
    return Path(rig.loaded.path).resolve().parent / "calibrations"


def calibration_path(rig: Rig, out: str | Path | None = None) -> Path:
    """The calibration file of ``rig`` (``out`` wins when given)."""
    if out is not None:
        return Path(out)
    return calibration_dir(rig) / f"{slug(rig.settings.name)}.json"


def save_calibration(calibration: FluenceCalibration, path: str | Path) -> Path:
    """Write atomically (temporary file + rename) so a crash never leaves half a file."""
    path = Path(path)
    text = calibration.model_dump_json(indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(
            f"cannot write the calibration to {path}: {exc.strerror or exc} "
            f"(choose another file with --out or set {CALIBRATION_DIR_ENV})"
        ) from None
    return path


def load_calibration_file(path: str | Path) -> FluenceCalibration:
    """Read and validate a calibration file; errors name the file and the field (exit 2)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("calibration file not found", file=path) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read ({exc})", file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            file=path,
            expected="a fluence calibration written by `tamrig calibrate fluence`",
        ) from None
    if not isinstance(data, dict):
        raise InputError("not a calibration", file=path, expected="a JSON object")
    return validate_model(FluenceCalibration, data, file=path)


def check_compatible(calibration: FluenceCalibration, rig: Rig, path: str | Path) -> None:
    """Refuse a calibration whose optics differ from the rig's current settings."""
    s = rig.settings
    checks = [
        ("pump_wavelength_nm", calibration.pump_wavelength_nm, s.pump_wavelength_nm),
        ("rep_rate_hz", calibration.rep_rate_hz, s.rep_rate_hz),
    ]
    for field, got, want in checks:
        if abs(got - want) > 1e-9 * max(abs(want), 1.0):
            raise InputError(
                f"calibrated at {field} = {got:g}, but the rig now has {want:g}",
                file=path,
                field=field,
                expected="a calibration taken with the rig's current settings "
                "(run `tamrig calibrate fluence`)",
            )
    if calibration.power_behind_chopper != s.power_behind_chopper:
        raise InputError(
            "calibrated with a different chopper arrangement",
            file=path,
            field="power_behind_chopper",
            expected=f"{s.power_behind_chopper} as in the rig file (recalibrate)",
        )
    attenuator = rig.attenuator
    if attenuator is not None:
        want_kind = "discrete" if attenuator.kind == "discrete" else "continuous"
        got_kind = "continuous" if isinstance(calibration.law, HwpLaw) else "discrete"
        if want_kind != got_kind:
            raise InputError(
                f"a {got_kind} attenuator calibration, but the rig's attenuator is {want_kind}",
                file=path,
                field="law.kind",
                expected="a calibration of this rig's attenuator (recalibrate)",
            )
    if calibration.rig_name != s.name:
        log.warning(
            "calibration %s was taken on rig %r, now used on %r", path, calibration.rig_name, s.name
        )


def load_calibration(rig: Rig, path: str | Path | None = None) -> FluenceCalibration | None:
    """The saved calibration of ``rig`` (None if there is none), checked against the rig.

    The pump σ of the rig file fills the calibration's when the calibration has none; the
    fluence interlock is always the rig file's current ``max_fluence_uj_cm2``.
    """
    file = calibration_path(rig, path)
    if not file.exists():
        if path is not None:
            raise InputError("calibration file not found", file=file)
        return None
    calibration = load_calibration_file(file)
    check_compatible(calibration, rig, file)
    limit = rig.settings.max_fluence_uj_cm2
    if calibration.max_fluence_uj_cm2 != limit:
        # The rig file is the interlock's authority, not the limit in force when calibrating.
        calibration = calibration.model_copy(update={"max_fluence_uj_cm2": limit})
    if calibration.pump_sigma_nm is None and rig.settings.pump_sigma_nm is not None:
        calibration = calibration.with_sample(pump_sigma_nm=rig.settings.pump_sigma_nm)
    return calibration
