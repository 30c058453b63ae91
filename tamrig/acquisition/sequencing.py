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
    """Acquire ``n_pairs`` pump-on and ``n_pairs`` pump-off frames at the current position;
    returns the running sums (``.result()`` is the ΔT/T image, computed by whoever needs it:
    the engine does it on its writer thread, while the stage moves on).

    ``chopper``: the camera streams with the pump shutter open; each frame's pump state is
    the hardware tag ``FrameBlock.pump_on`` (a camera without tags is a DeviceStateError,
    never parity); the first frame counted began its exposure after the shutter reported
    open (``Camera.discard_pending``), so none saw a shutter half way. ``shutter``: blocks
    of frames with the pump shutter open then closed,
    ``settle_frames`` discarded after every shutter change. The pump shutter is closed on
    return and on every exception; ``should_stop`` is polled between blocks and raises
    :class:`AcquisitionStopped`. ``on_block`` sees every kept block (raw-frame recording).
    ``keep_armed``: the caller has the camera streaming and keeps it so after the point
    (the engine, from point to point); otherwise it is started here and stopped on return.
    ``after_frames`` runs once every frame is in, before the pump shutter closes (the engine
    starts the stage towards the next point there, so the shutter's transit overlaps it).
    Normalisation uses ``norm_mask``, by default the image border (:func:`border_mask`): the
    whole frame would include the pump spot and pull the ΔT/T baseline below zero.
    """
    if n_pairs < 2:
        raise ValueError("n_pairs must be >= 2")
    camera = rig.camera
    shape = _image_shape(rig)
    mask = _default_norm_mask(shape) if norm_mask is None else norm_mask
    acc = DifferentialAccumulator(shape, dark, normalise, norm_mask=mask, dark_err=dark_err)

    def take(block: FrameBlock, tags: npt.NDArray[np.bool_]) -> None:
        try:
            acc.add(block, tags)
        except ValueError as exc:
            raise DeviceStateError(camera.name, str(exc)) from None
        if on_block is not None:
            on_block(block, tags)

    def check_stop() -> None:
        if should_stop is not None and should_stop():
            raise AcquisitionStopped("acquisition stopped on request")

    if not (keep_armed and camera.acquiring):
        camera.start()
    try:
        if scheme == "chopper":
            rig.open_pump()
            # the shutter reported open: frames exposed while it travelled saw part of the
            # pump, and frames from before (the stage move) none; the first one counted
            # begins its exposure now
            camera.discard_pending()
            budget = 4 * n_pairs + 2 * block_frames  # a running chopper needs 2 * n_pairs
            read = 0
            while acc.n_on < n_pairs or acc.n_off < n_pairs:
                check_stop()
                if read > budget:
                    raise DeviceStateError(
                        camera.name,
                        f"pump-state tags stuck: {acc.n_on} pump-on and {acc.n_off} pump-off "
                        f"frames in {read} (is the chopper running and its reference wired?)",
                    )
                need = 2 * max(n_pairs - acc.n_on, n_pairs - acc.n_off)
                block = camera.read(max(2, min(block_frames, need)))
                read += len(block)
                if block.pump_on is None:
                    raise DeviceStateError(
                        camera.name,
                        "frames carry no pump-state tag (chopper reference); "
                        "use the 'shutter' acquisition scheme",
                    )
                take(block, block.pump_on)
        elif scheme == "shutter":
            if keep_armed:
                camera.discard_pending()  # frames from before this point (the stage move)
            while acc.n_on < n_pairs or acc.n_off < n_pairs:
                for state in (True, False):
                    check_stop()
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
            raise ValueError(f"unknown acquisition scheme {scheme!r}")
        if after_frames is not None:
            after_frames()
    finally:
        try:
            rig.close_pump()
        finally:
            if not keep_armed:
                camera.stop()
    return acc


def acquire_point(rig: Rig, **options: Any) -> DifferentialImage:
    """:func:`acquire_sums` and the ΔT/T image with per-pixel errors from them."""
    return acquire_sums(rig, **options).result()
