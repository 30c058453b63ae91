"""Rig point sequencing: dark frames and one pump-on / pump-off point at the current position.

Drives shutters and camera in the order a scheme needs (``chopper``: hardware pump-state tags;
``shutter``: alternating shutter blocks) and hands the frames to the accumulator
(:mod:`tamrig.acquisition.accumulator`); the pump shutter is closed on every way out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from tamrig.acquisition.accumulator import F64, DifferentialAccumulator, border_mask
from tamrig.devices import FrameBlock
from tamrig.errors import DeviceStateError
from tamrig.records import DifferentialImage

if TYPE_CHECKING:
    from tamrig.rig import Rig

Scheme = Literal["chopper", "shutter"]


class AcquisitionStopped(Exception):
    """Raised by :func:`acquire_point` when ``should_stop`` asks it to give up the point."""


def _image_shape(rig: Rig) -> tuple[int, int]:
    roi = rig.camera.config().roi
    return (roi.height, roi.width)


@lru_cache(maxsize=8)
def _default_norm_mask(shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """The image border (:func:`border_mask`) of one shape, made once and read-only."""
    mask = border_mask(shape)
    mask.flags.writeable = False
    return mask


def measure_dark(rig: Rig, n_frames: int, *, block_frames: int = 64) -> tuple[F64, F64]:
    """Mean dark frame and its per-pixel standard error, probe (and pump) shutter closed.

    The probe shutter is reopened only when the measurement succeeded; on any error it stays
    closed (the safe state).
    """
    if n_frames < 2:
        raise ValueError("a dark measurement needs at least 2 frames")
    probe = rig.probe_shutter
    if probe is None:
        raise DeviceStateError("probe_shutter", "a dark measurement needs a probe shutter")
    camera = rig.camera
    # Raw counts, no probe normalisation: every frame is tagged "pump off".
    acc = DifferentialAccumulator(_image_shape(rig), normalise=False)
    rig.close_pump()
    probe.close()
    camera.start()
    try:
        while acc.n_off < n_frames:
            block = camera.read(min(block_frames, n_frames - acc.n_off))
            acc.add(block, np.zeros(len(block), bool))
    finally:
        camera.stop()
    mean, err = acc.frame_mean(pump_on=False)
    probe.open()
    return mean, err


class PointAcquisition:
    """The differential acquisition of every point of a scan, checked and prepared once.

    What stays fixed for a scan -- scheme, frame counts, dark frame, normalisation mask and
    the accumulator built from them -- is validated here, not per point: :meth:`run`
    takes a fresh accumulator from a template (:meth:`DifferentialAccumulator.fresh`) and
    does only the device sequence of one point. The template follows the camera's image
    shape (one re-configured while the scan was paused gets a new one, checked again).

    ``chopper``: the camera streams with the pump shutter open; each frame's pump state is
    the hardware tag ``FrameBlock.pump_on`` (a camera without tags is a DeviceStateError,
    never parity); the first frame counted began its exposure after the shutter reported
    open (``Camera.discard_pending``), so none saw a shutter half way. ``shutter``: blocks
    of frames with the pump shutter open then closed,
    ``settle_frames`` discarded after every shutter change. The pump shutter is closed on
    return and on every exception; ``should_stop`` is polled between blocks and raises
    :class:`AcquisitionStopped`. ``keep_armed``: the caller has the camera streaming and
    keeps it so after the point (the engine, from point to point); otherwise it is started
    at each point and stopped on return. Normalisation uses ``norm_mask``, by default the
    image border (:func:`border_mask`): the whole frame would include the pump spot and
    pull the ΔT/T baseline below zero.
    """

    def __init__(
        self,
        rig: Rig,
        *,
        n_pairs: int,
        scheme: Scheme,
        block_frames: int = 64,
        dark: npt.NDArray[np.floating] | None,
        should_stop: Callable[[], bool] | None = None,
        dark_err: npt.NDArray[np.floating] | None = None,
        normalise: bool = True,
        norm_mask: npt.NDArray[np.bool_] | None = None,
        settle_frames: int = 1,
        keep_armed: bool = False,
    ) -> None:
        if n_pairs < 2:
            raise ValueError("n_pairs must be >= 2")
        self.rig = rig
        self.n_pairs = n_pairs
        self.scheme = scheme
        self.block_frames = block_frames
        self.settle_frames = settle_frames
        self.keep_armed = keep_armed
        self._dark, self._dark_err, self._normalise = dark, dark_err, normalise
        self._norm_mask = norm_mask
        self._should_stop = should_stop
        self._camera = rig.camera
        self._template = self._template_for(_image_shape(rig))
        self._checked: object = None  # the camera config the template was last checked for

    def _template_for(self, shape: tuple[int, int]) -> DifferentialAccumulator:
        mask = _default_norm_mask(shape) if self._norm_mask is None else self._norm_mask
        return DifferentialAccumulator(
            shape, self._dark, self._normalise, norm_mask=mask, dark_err=self._dark_err
        )

    def _sums(self) -> DifferentialAccumulator:
        """An empty accumulator for the camera's current image shape."""
        template = self._template
        config = self._camera.config()
        if config is not self._checked:  # (a camera's config is replaced, never changed)
            roi = config.roi
            if template.shape != (roi.height, roi.width):
                template = self._template = self._template_for((roi.height, roi.width))
            self._checked = config
        return template.fresh()

    def run(
        self,
        on_block: Callable[[FrameBlock, npt.NDArray[np.bool_]], None] | None = None,
        after_frames: Callable[[], None] | None = None,
    ) -> DifferentialAccumulator:
        """Acquire ``n_pairs`` pump-on and ``n_pairs`` pump-off frames at the current
        position; returns the running sums (``.result()`` is the ΔT/T image, computed by
        whoever needs it: the engine does it on its writer thread, while the stage moves on).

        ``on_block`` sees every kept block (raw-frame recording, live views).
        ``after_frames`` runs once every frame is in, before the pump shutter closes (the
        engine starts the stage towards the next point there, so the shutter's transit
        overlaps it).
        """
        rig, camera, n_pairs = self.rig, self._camera, self.n_pairs
        block_frames, should_stop = self.block_frames, self._should_stop
        acc = self._sums()

        def take(block: FrameBlock, tags: npt.NDArray[np.bool_]) -> None:
            try:
                acc.add(block, tags)
            except ValueError as exc:
                raise DeviceStateError(camera.name, str(exc)) from None
            if on_block is not None:
                on_block(block, tags)

        keep_armed = self.keep_armed
        if not (keep_armed and camera.acquiring):
            camera.start()
        try:
            if self.scheme == "chopper":
                rig.open_pump()
                # the shutter reported open: frames exposed while it travelled saw part of
                # the pump, and frames from before (the stage move) none; the first one
                # counted begins its exposure now
                camera.discard_pending()
                budget = 4 * n_pairs + 2 * block_frames  # a running chopper needs 2 * n_pairs
                read = n_on = n_off = 0
                while n_on < n_pairs or n_off < n_pairs:
                    if should_stop is not None and should_stop():
                        raise AcquisitionStopped("acquisition stopped on request")
                    if read > budget:
                        raise DeviceStateError(
                            camera.name,
                            f"pump-state tags stuck: {n_on} pump-on and {n_off} pump-off "
                            f"frames in {read} (is the chopper running and its reference "
                            "wired?)",
                        )
                    need = 2 * max(n_pairs - n_on, n_pairs - n_off)
                    block = camera.read(max(2, min(block_frames, need)))
                    read += len(block)
                    if block.pump_on is None:
                        raise DeviceStateError(
                            camera.name,
                            "frames carry no pump-state tag (chopper reference); "
                            "use the 'shutter' acquisition scheme",
                        )
                    take(block, block.pump_on)
                    n_on, n_off = acc.n_on, acc.n_off
            elif self.scheme == "shutter":
                if keep_armed:
                    camera.discard_pending()  # frames from before this point (the stage move)
                settle_frames = self.settle_frames
                while acc.n_on < n_pairs or acc.n_off < n_pairs:
                    for state in (True, False):
                        if should_stop is not None and should_stop():
                            raise AcquisitionStopped("acquisition stopped on request")
                        if state:
                            rig.open_pump()
                        else:
                            rig.close_pump()
                        if settle_frames:
                            camera.read(settle_frames)
                        have = acc.n_on if state else acc.n_off
                        count = max(2, min(block_frames, n_pairs - have))
                        block = camera.read(count)
                        take(block, np.full(len(block), state))
            else:
                raise ValueError(f"unknown acquisition scheme {self.scheme!r}")
            if after_frames is not None:
                after_frames()
        finally:
            try:
                rig.close_pump()
            finally:
                if not keep_armed:
                    camera.stop()
        return acc


def acquire_sums(
    rig: Rig,
    *,
    n_pairs: int,
    scheme: Scheme,
    block_frames: int = 64,
    dark: npt.NDArray[np.floating] | None,
    should_stop: Callable[[], bool] | None = None,
    dark_err: npt.NDArray[np.floating] | None = None,
    normalise: bool = True,
    norm_mask: npt.NDArray[np.bool_] | None = None,
    settle_frames: int = 1,
    on_block: Callable[[FrameBlock, npt.NDArray[np.bool_]], None] | None = None,
    keep_armed: bool = False,
    after_frames: Callable[[], None] | None = None,
) -> DifferentialAccumulator:
    """One point of :class:`PointAcquisition` (see there for the schemes and options): the
    running sums of ``n_pairs`` pump-on and ``n_pairs`` pump-off frames at the current
    position."""
    acquisition = PointAcquisition(
        rig,
        n_pairs=n_pairs,
        scheme=scheme,
        block_frames=block_frames,
        dark=dark,
        should_stop=should_stop,
        dark_err=dark_err,
        normalise=normalise,
        norm_mask=norm_mask,
        settle_frames=settle_frames,
        keep_armed=keep_armed,
    )
    return acquisition.run(on_block, after_frames)


def acquire_point(rig: Rig, **options: Any) -> DifferentialImage:
    """:func:`acquire_sums` and the ΔT/T image with per-pixel errors from them."""
    return acquire_sums(rig, **options).result()
