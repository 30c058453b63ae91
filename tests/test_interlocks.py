"""Interlocks: the pump shutter opens only while the camera acquires; the fluence limit is
enforced before the attenuator moves.

The pump's state is always read from the simulated world (the blade itself), never from the
device's own report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_variant
from harness_cli import run_cli
from harness_engine import write_plan, write_rig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simulators.world import World
from tamrig.calibration import (
    apply_fluence,
    calibrate_fluence,
    load_calibration,
    nominal_calibration,
    save_calibration,
)
from tamrig.calibration.nominal import QUICK_SWEEP
from tamrig.engine.session import start_scan
from tamrig.errors import DeviceFault, InputError, InterlockError
from tamrig.rig import Rig, build_rig

SIGMA_NM = 141.0
CROSS_SECTION = 9.6e-16


def pump_open(rig: Rig) -> bool:
    return World.of(rig).shutter_open("pump_shutter")


# -- pump shutter <-> camera -------------------------------------------------------------------


class PumpInterlock(RuleBasedStateMachine):
    """Random operator / engine actions; the pump may open only while the camera acquires."""

    def __init__(self) -> None:
        super().__init__()
        self.rig = build_rig(overrides={"time_scale": 0.0})
        self.rig.connect()
        self.world = World.of(self.rig)

    @rule()
    def start_camera(self) -> None:
        try:
            self.rig.camera.start()
        except DeviceFault:
            pass

    @rule()
    def stop_camera_the_rig_way(self) -> None:
        """What the live view and acquisition do: close the pump, then stop the camera."""
        self.rig.close_pump()
        self.rig.camera.stop()

    @rule()
    def open_pump(self) -> None:
        acquiring = self.rig.camera.acquiring
        was_open = pump_open(self.rig)
        try:
            self.rig.open_pump()
        except InterlockError:
            assert not acquiring
            assert pump_open(self.rig) == was_open  # refused before the shutter was touched
        else:
            assert acquiring

    @rule()
    def close_pump(self) -> None:
        self.rig.close_pump()
        assert not pump_open(self.rig)

    @rule(n=st.integers(1, 6))
    def read_frames(self, n: int) -> None:
        try:
            self.rig.camera.read(n, timeout_s=1.0)
        except DeviceFault:
            pass

    @rule()
    def camera_fails_to_start(self) -> None:
        self.world.faults.inject(device="camera", kind="timeout", operation="start")

    @rule()
    def stream_stalls(self) -> None:
        self.world.faults.inject(device="camera", kind="stream_stall")

    @rule()
    def safe_state(self) -> None:
        self.rig.safe_state()
        assert not pump_open(self.rig)
        assert not self.rig.camera.acquiring

    @invariant()
    def pump_open_only_while_acquiring(self) -> None:
        if pump_open(self.rig):
            assert self.rig.camera.acquiring

    def teardown(self) -> None:
        self.world.faults.clear()
        self.rig.shutdown()
        assert not pump_open(self.rig)


TestPumpInterlock = PumpInterlock.TestCase
TestPumpInterlock.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, derandomize=True
)


@pytest.mark.parametrize("scheme", ["chopper", "shutter"])
def test_pump_opens_only_while_the_camera_acquires_during_a_scan(
    scheme: str, tmp_path: Path
) -> None:
    """Every real opening of the pump blade in a scan happens with the camera acquiring, and
    the camera never stops while the blade is open."""
    plan = write_plan(tmp_path)
    plan.write_text(plan.read_text().replace('scheme = "chopper"', f'scheme = "{scheme}"'))
    violations: list[str] = []
    opened = 0
    with build_rig(write_rig(tmp_path)) as rig:
        shutter: Any = rig.pump_shutter
        camera: Any = rig.camera
        real_open, real_stop = shutter.open, camera.stop

        def watched_open() -> None:
            nonlocal opened
            if not camera.acquiring:
                violations.append("pump opened while the camera was not acquiring")
            real_open()
            opened += 1

        def watched_stop() -> None:
            if shutter.true_open():
                violations.append("camera stopped while the pump blade was open")
            real_stop()

        shutter.open, camera.stop = watched_open, watched_stop
        with start_scan(plan, out=tmp_path / "scan.h5", rig=rig) as scan:
            assert scan.run() == "finished"
        assert not shutter.true_open()
    assert opened > 0 and not violations, violations


# -- maximum fluence ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """The simulated rig with its interlock lowered to 20 µJ/cm² (reachable: ~0-90)."""
    folder = tmp_path_factory.mktemp("capped")
    path = write_variant(folder, "max_fluence_uj_cm2 = 200.0", "max_fluence_uj_cm2 = 20.0")
    with build_rig(path, overrides={"time_scale": 0.0}) as rig:
        yield rig


@pytest.fixture(scope="module")
def capped_calibration(capped_rig: Rig) -> Any:
    return nominal_calibration(capped_rig, pump_sigma_nm=SIGMA_NM, cross_section_cm2=CROSS_SECTION)


def attenuator_moves(rig: Rig) -> int:
    return World.of(rig).faults.calls("attenuator", "move")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fluence=st.floats(0.5, 1e6))
def test_fluence_above_the_limit_refused_before_the_attenuator_moves(
    capped_rig: Rig, capped_calibration: Any, fluence: float
) -> None:
    rig, calibration = capped_rig, capped_calibration
    limit = rig.settings.max_fluence_uj_cm2
    moves, angle = attenuator_moves(rig), rig.attenuator.setting()  # type: ignore[union-attr]
    try:
        point = apply_fluence(rig, calibration, fluence_uj_cm2=fluence)
    except InputError as exc:
        assert exc.field == "fluence"
        assert attenuator_moves(rig) == moves  # nothing moved
        assert rig.attenuator.setting() == angle  # type: ignore[union-attr]
        if fluence > limit:
            assert "interlock" in str(exc)
        return
    assert fluence <= limit
    assert point.setting == rig.attenuator.setting()  # type: ignore[union-attr]
    # the pump really delivers no more than the limit (a few % calibration tolerance)
    assert World.of(rig).peak_fluence_uj_cm2() <= limit * 1.05


def test_lowered_limit_applies_to_a_saved_calibration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A calibration taken under a 200 µJ/cm² limit must not carry that limit past a rig file
    that now says 20: the rig file is the interlock's authority."""
    monkeypatch.setenv("TAMRIG_CALIBRATION_DIR", str(tmp_path / "calibrations"))
    wide = write_variant(tmp_path, "max_fluence_uj_cm2 = 200.0", "max_fluence_uj_cm2 = 200.0")
    # (an unchanged copy: the calibration folder is found next to the rig file)
    with build_rig(wide, overrides={"time_scale": 0.0}) as rig:
        calibration = calibrate_fluence(rig, QUICK_SWEEP)
        save_calibration(calibration, tmp_path / "calibrations" / "simulated-tam-rig.json")
    narrow = write_variant(
        tmp_path, "max_fluence_uj_cm2 = 200.0", "max_fluence_uj_cm2 = 20.0", name="narrow.toml"
    )
    with build_rig(narrow, overrides={"time_scale": 0.0}) as rig:
        loaded = load_calibration(rig)
        assert loaded is not None
        loaded = loaded.with_sample(pump_sigma_nm=SIGMA_NM, cross_section_cm2=CROSS_SECTION)
        moves = attenuator_moves(rig)
        with pytest.raises(InputError, match="interlock"):
            apply_fluence(rig, loaded, fluence_uj_cm2=50.0)
        assert attenuator_moves(rig) == moves
        assert loaded.reachable_fluence()[1] <= 20.0


def test_plan_above_the_limit_exits_2_before_anything_moves(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    plan.write_text(
        plan.read_text().replace(
            'unit = "n_abs"\nvalues = [0.09, 0.18]', 'unit = "uJ/cm2"\nvalues = [10.0, 250.0]'
        )
    )
    result = run_cli(
        [
            "scan",
            str(plan),
            "--rig",
            str(write_rig(tmp_path)),
            "--out",
            str(tmp_path / "x.h5"),
            "--quiet",
        ]
    )
    assert result.code == 2, result.describe()
    assert "fluence" in result.err and str(plan) in result.err, result.describe()
    assert not (tmp_path / "x.h5").exists()
