"""GenICam camera driver: node-map configuration on a fake camera, the frame ring, and real
streaming through the GenTL producer shipped with the genicam wheel (viky.cti)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from drivers.frame_ring import FrameCounter, FrameRing, RingClosed
from drivers.genicam_nodes import NodeError, apply_config, line_bit, read_config, snap
from tamrig.devices import CameraConfig, Roi
from tamrig.errors import DeviceStateError


# -- a dict-backed node map with the SFNC nodes viky lacks ---------------------------------
class Node:
    def __init__(
        self, value: Any, lo: float = 0, hi: float = 1e9, inc: int = 1, symbolics: tuple = ()
    ):
        self.value, self.min, self.max, self.inc, self.symbolics = value, lo, hi, inc, symbolics


class FakeNodeMap:
    def __init__(self, **nodes: Node) -> None:
        for name, node in nodes.items():
            setattr(self, name, node)


def sfnc_camera(trigger: bool = True) -> FakeNodeMap:
    nodes = {
        "PixelFormat": Node("Mono8", symbolics=("Mono8", "Mono12", "Mono16")),
        "Width": Node(2048, 16, 2048, 16),
        "Height": Node(2048, 8, 2048, 8),
        "WidthMax": Node(2048),
        "HeightMax": Node(2048),
        "OffsetX": Node(0, 0, 2032, 16),
        "OffsetY": Node(0, 0, 2040, 8),
        "ExposureTime": Node(10000.0, 10.0, 1e6),
        "ExposureAuto": Node("Continuous"),
        "AcquisitionFrameRateEnable": Node(False),
        "AcquisitionFrameRate": Node(30.0, 1.0, 400.0),
    }
    if trigger:
        nodes |= {
            "TriggerSelector": Node("FrameStart"),
            "TriggerMode": Node("Off"),
            "TriggerSource": Node("Software"),
            "TriggerActivation": Node("FallingEdge"),
        }
    return FakeNodeMap(**nodes)


def test_roi_is_snapped_and_offsets_set_after_size() -> None:
    nm = sfnc_camera()
    cfg = CameraConfig(Roi(100, 50, 130, 61), 2000.0, 500.0, "Mono12", "free-run")
    got = apply_config(nm, cfg)
    assert got.roi == Roi(96, 48, 128, 56)  # increments 16 / 8
    assert got.pixel_format == "Mono12"
    assert got.exposure_us == 2000.0
    assert got.frame_rate_hz == 400.0  # clamped to the node maximum
    assert nm.ExposureAuto.value == "Off" and nm.AcquisitionFrameRateEnable.value is True
    assert nm.TriggerMode.value == "Off"
    assert snap(nm.Width, 5000) == 2048


def test_hardware_trigger_configures_the_trigger_nodes() -> None:
    nm = sfnc_camera()
    cfg = CameraConfig(Roi(0, 0, 256, 256), 500.0, 100.0, "Mono16", "hardware")
    got = apply_config(nm, cfg, trigger_source="Line1", trigger_activation="RisingEdge")
    assert got.trigger == "hardware"
    assert (nm.TriggerMode.value, nm.TriggerSource.value) == ("On", "Line1")
    assert nm.TriggerActivation.value == "RisingEdge"
    assert nm.AcquisitionFrameRateEnable.value is False
    assert read_config(nm).trigger == "hardware"


def test_missing_features_are_refused_by_name() -> None:
    cfg = CameraConfig(Roi(0, 0, 256, 256), 500.0, 100.0, "Mono12", "hardware")
    with pytest.raises(NodeError, match="TriggerMode"):
        apply_config(sfnc_camera(trigger=False), cfg)
    nm = FakeNodeMap(
        PixelFormat=Node("Mono8", symbolics=("Mono8", "RGBa8")),
        Width=Node(400, 100, 800),
        Height=Node(400, 100, 800),
    )
    with pytest.raises(NodeError, match="Mono12 not offered"):
        apply_config(nm, cfg)
    offset = CameraConfig(Roi(10, 0, 256, 256), 500.0, 100.0, "Mono8", "free-run")
    with pytest.raises(NodeError, match="OffsetX"):
        apply_config(nm, offset)
    assert line_bit("Line2") == 2


# -- frame ring ----------------------------------------------------------------------------
def test_ring_counts_gaps_and_overruns_as_drops() -> None:
    ring = FrameRing(4, 2, 3, tagged=True, dtype=np.uint8)
    img = np.ones((2, 3), dtype=np.uint8)
    for fid in (1, 2, 5):  # 3 and 4 lost by the camera
        ring.push(img * fid, fid, fid * 0.01, fid % 2 == 0, dropped_before=2 if fid == 5 else 0)
    block = ring.take(3, timeout_s=0)
    assert block.frame_id.tolist() == [1, 2, 5] and block.dropped == 2
    assert block.data.dtype == np.uint16 and int(block.data[2, 0, 0]) == 5
    assert block.pump_on is not None and block.pump_on.tolist() == [False, True, False]
    for fid in range(6, 12):  # 6 frames into a ring of 4: the two oldest are overwritten
        ring.push(img, fid, 0.0, False)
    block = ring.take(4, timeout_s=0)
    assert block.frame_id.tolist() == [8, 9, 10, 11] and block.dropped == 2
    assert ring.dropped_total == 4


def test_ring_never_overwrites_frames_a_reader_is_copying() -> None:
    ring = FrameRing(2, 1, 1, tagged=False)
    zero, nine = np.zeros((1, 1), np.uint16), np.full((1, 1), 9, np.uint16)
    ring.push(zero, 1, 0.0, None)
    ring.push(zero, 2, 0.0, None)
    ring._reserved = (0, 1)  # a reader is copying frame 1 out of slot 0
    ring.push(nine, 3, 0.0, None)  # would overwrite slot 0: dropped instead
    assert ring.dropped_total == 1 and int(ring.frames[0, 0, 0]) == 0
    ring._reserved = None
    ring.push(nine, 4, 0.0, None)
    assert ring.take(2, timeout_s=0).frame_id.tolist() == [2, 4]


def test_ring_timeout_and_close_wake_readers() -> None:
    ring = FrameRing(4, 1, 1, tagged=False)
    with pytest.raises(TimeoutError):
        ring.take(1, timeout_s=0)
    result: list[BaseException] = []

    def reader() -> None:
        try:
            ring.take(2, timeout_s=60)
        except BaseException as exc:
            result.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    ring.close()
    t.join(timeout=10)
    assert not t.is_alive() and isinstance(result[0], RingClosed)


def _push(ring: FrameRing, fid: int, gap: int = 0, fetch_no: int | None = None) -> None:
    ring.push(np.full((1, 1), fid, np.uint16), fid, fid * 0.005, fid % 2 == 1, gap, fetch_no)


def test_discard_drops_the_ring_and_the_frames_still_on_their_way_without_a_drop() -> None:
    ring = FrameRing(8, 1, 1, tagged=True)
    for fid in range(1, 4):
        _push(ring, fid)
    assert ring.take(3, timeout_s=0).frame_id.tolist() == [1, 2, 3]
    _push(ring, 4)
    _push(ring, 6, gap=1)  # 5 lost by the camera, not yet reported in a block
    held = ring.note_fetch()  # frame 7 fetched before the discard, pushed after it
    assert ring.dropped_total == 1
    # frames 8 and 9 wait in the producer's queue; 10 and 11 may be in transfer/exposure
    assert ring.discard(queued=2, guard_frames=2) == 2
    assert ring.available == 0 and ring.dropped_total == 0  # 5 was a stale frame too
    _push(ring, 7, fetch_no=held)
    for fid in (8, 9, 10, 11):
        _push(ring, fid)
    assert ring.available == 0 and ring.discarded == 2 + 5
    _push(ring, 12)
    _push(ring, 14, gap=1)  # 13 lost after the discard: a real drop
    block = ring.take(2, timeout_s=0)
    assert block.frame_id.tolist() == [12, 14] and block.dropped == 1
    assert block.pump_on is not None and block.pump_on.tolist() == [False, False]  # own tags
    assert int(block.data[1, 0, 0]) == 14 and ring.dropped_total == 1


def test_discard_guard_counts_from_the_first_frame_not_queued() -> None:
    """Losses inside the stale stretch are not drops; those after it are."""
    ring = FrameRing(8, 1, 1, tagged=False)
    _push(ring, 1)
    ring.discard(queued=0, guard_frames=3)
    _push(ring, 2)  # first frame not queued at the discard: keep from id 5 on
    _push(ring, 6, gap=3)  # 3, 4 were stale, 5 was wanted
    assert ring.take(1, timeout_s=0).dropped == 1 and ring.dropped_total == 1
    ring.discard(queued=0, guard_frames=1)
    _push(ring, 7)
    _push(ring, 10, gap=2)  # keep from 8: 8 and 9 lost
    block = ring.take(1, timeout_s=0)
    assert block.frame_id.tolist() == [10] and block.dropped == 2
    with pytest.raises(ValueError):
        ring.discard(queued=-1, guard_frames=0)
    # the producer has handed out one buffer more than the ring has heard of (frame 11)
    ring.discard(queued=1, guard_frames=1, delivered=ring.fetches + 1)
    for fid in (11, 12, 13, 14):  # 11 fetched before, 12 queued, 13 guard
        _push(ring, fid)
    assert ring.take(1, timeout_s=0).frame_id.tolist() == [14]
    # the producer's queue was emptied after the discard: the next fetch is the first
    # frame delivered after the call, counted from there
    ring.discard(queued=5, guard_frames=1)
    ring.queue_flushed()
    for fid in (20, 21):
        _push(ring, fid)
    assert ring.take(1, timeout_s=0).frame_id.tolist() == [21]


def test_discard_forgets_overruns_of_an_unread_ring() -> None:
    """A ring lapped while nobody reads (between points) reported no drop after a discard."""
    ring = FrameRing(4, 1, 1, tagged=False)
    for fid in range(1, 11):
        _push(ring, fid)
    assert ring.dropped_total == 6
    ring.discard(queued=0, guard_frames=1)
    assert ring.dropped_total == 0
    for fid in range(11, 14):
        _push(ring, fid)
    block = ring.take(2, timeout_s=0)
    assert block.frame_id.tolist() == [12, 13] and block.dropped == 0


def test_frame_counter_unwraps_16_bit_block_ids() -> None:
    counter = FrameCounter()
    assert counter.advance(65533) == (65533, 0)
    assert counter.advance(65535) == (65535, 1)  # 65534 lost
    assert counter.advance(1) == (65536, 0)  # GigE Vision ids skip 0
    assert counter.advance(3) == (65538, 1)
    wraps_to_zero = FrameCounter()
    wraps_to_zero.advance(65535)
    assert wraps_to_zero.advance(0) == (65536, 0)
    restarted = FrameCounter()
    restarted.advance(500)
    assert restarted.advance(3) == (501, 0)  # a restarted counter, not 65 000 lost frames
    wide = FrameCounter()
    wide.advance(1 << 40)
    assert wide.advance((1 << 40) + 2) == ((1 << 40) + 2, 1)


# -- viky.cti ------------------------------------------------------------------------------
@pytest.fixture
def viky() -> Iterator[Any]:
    from drivers.genicam_camera import GenICamCamera, GenICamSettings, find_cti

    try:
        find_cti("viky.cti")
        from harvesters.core import Harvester

        probe = Harvester()
        probe.add_file(str(find_cti("viky.cti")), check_existence=True, check_validity=True)
        probe.update()
        found = len(probe.device_info_list)
        probe.reset()
    except Exception as exc:  # no wheel, or a producer this platform cannot load
        pytest.skip(f"GenTL producer viky.cti cannot be loaded here: {exc}")
    if not found:
        pytest.skip("viky.cti loaded but offers no device")
    cam = GenICamCamera(
        "camera",
        GenICamSettings(
            cti="viky.cti",
            pixel_format="Mono8",
            frame_rate_hz=200.0,
            num_buffers=64,  # 320 ms of frames: slack for a CPU shared with other jobs
            ring_frames=256,
        ),
    )
    cam.connect()
    try:
        yield cam
    finally:
        cam.disconnect()


def _stream_two_seconds(cam: Any) -> tuple[np.ndarray, int]:
    """400 frames (2 s at 200 fps) in blocks of 50; returns frame ids and dropped count."""
    cam.start()
    assert cam.acquiring
    ids: list[np.ndarray] = []
    dropped = 0
    for _ in range(8):
        block = cam.read(50, timeout_s=5.0)
        assert block.data.shape == (50, 800, 800) and block.data.dtype == np.uint16
        assert block.pump_on is None  # viky has no line-status chunk
        ids.append(block.frame_id)
        dropped += block.dropped
    cam.stop()
    assert not cam.acquiring
    assert dropped <= cam.dropped_frames  # frames may still arrive between read and stop
    return np.concatenate(ids), dropped


def test_viky_streams_at_full_rate_without_drops(viky: Any) -> None:
    """Full sensor (800x800 Mono8) at the producer's maximum of 200 fps for 2 s.

    The producer renders every frame on the same CPU as the driver and the rest of the
    test run; when a busy runner starves both, one more run is allowed. A driver that
    loses frames by itself (held buffers, slow copies, a stalled thread) fails both.
    """
    assert viky.sensor_shape == (800, 800)
    cfg = viky.config()  # full sensor when the rig file has no ROI
    assert (cfg.roi, cfg.frame_rate_hz, cfg.pixel_format) == (Roi(0, 0, 800, 800), 200.0, "Mono8")
    frame_ids, dropped = _stream_two_seconds(viky)
    if dropped:
        frame_ids, dropped = _stream_two_seconds(viky)
    assert dropped == 0 and viky.status()["dropped_frames"] == 0
    assert frame_ids[0] == 1 and np.all(np.diff(frame_ids) == 1)  # ids restart at each start


def test_viky_roi_change_between_runs_and_stop_wakes_reader(viky: Any) -> None:
    viky.configure(roi=Roi(0, 0, 320, 240), frame_rate_hz=1.0)
    viky.start()
    with pytest.raises(DeviceStateError, match="locked"):
        viky.configure(roi=Roi(0, 0, 100, 100))
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            viky.read(200, timeout_s=120)  # 200 s of frames at 1 fps: blocks until stopped
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    viky.stop()
    t.join(timeout=10)
    assert not t.is_alive()
    assert isinstance(errors[0], DeviceStateError) and "stopped" in str(errors[0])
    viky.configure(frame_rate_hz=200.0)
    viky.start()
    block = viky.read(5)
    viky.stop()
    assert block.data.shape == (5, 240, 320) and block.frame_id[0] == 1


def test_viky_stays_armed_across_discards(viky: Any) -> None:
    """Point after point on the real producer: no stop/start, frame ids keep counting, and
    each point's first frame comes after the frames delivered, queued or in flight at the
    discard (at least the guard frames past the last one read)."""
    viky.configure(roi=Roi(0, 0, 256, 256))
    viky.start()
    acquirer = viky._ia
    rearms: list[str] = []
    acquirer.start = lambda *a, **k: rearms.append("start")
    acquirer.stop = lambda *a, **k: rearms.append("stop")
    try:
        guard = viky.guard_frames()
        assert guard == 2  # viky reports no exposure: a period, plus a period of delivery
        last = int(viky.read(10, timeout_s=5.0).frame_id[-1])
        for _ in range(4):
            viky.discard_pending()
            block = viky.read(10, timeout_s=5.0)
            assert block.data.shape == (10, 256, 256)
            assert int(block.frame_id[0]) >= last + 1 + guard
            assert np.all(np.diff(block.frame_id) >= 1)
            last = int(block.frame_id[-1])
        assert viky.acquiring and rearms == []
        assert viky._ring.discarded >= 4 * guard
    finally:
        del acquirer.start, acquirer.stop  # the class's own methods again
        viky.stop()
    assert not viky.acquiring and not acquirer.is_acquiring()


def test_viky_refuses_what_it_cannot_do(viky: Any) -> None:
    with pytest.raises(DeviceStateError, match="Mono12 not offered"):
        viky.configure(pixel_format="Mono12")
    with pytest.raises(DeviceStateError, match="TriggerMode"):
        viky.configure(trigger="hardware")
    with pytest.raises(Exception, match="does not fit"):
        viky.configure(roi=Roi(0, 0, 900, 100))


# -- the acquisition thread against a scripted image acquirer ------------------------------
class FakeBuffer:
    """What the thread touches on a harvesters buffer: frame id, timestamp, payload."""

    def __init__(self, frame_id: int, image: np.ndarray, ts_ns: int) -> None:
        self.module = type("Module", (), {"frame_id": frame_id})()
        component = type("Component", (), {"data": image.reshape(-1)})()
        self.payload = type("Payload", (), {"components": [component]})()
        self.timestamp_ns = ts_ns
        self.queued = False

    def __enter__(self) -> FakeBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.queued = True  # harvesters requeues here; the ring must already hold a copy
        self.payload.components[0].data[:] = 0


class FakeAcquirer:
    """Hands out scripted buffers, updating the LineStatusAll chunk node as harvesters does."""

    def __init__(self, frames: list[tuple[int, int]], shape: tuple[int, int]) -> None:
        self.node_map = FakeNodeMap(ChunkLineStatusAll=Node(0))
        self.remote_device = type("Remote", (), {"node_map": self.node_map})()
        self.script = [
            (FakeBuffer(fid, np.full(shape, fid, dtype=np.uint16), 1_000_000 * fid), lines)
            for fid, lines in frames
        ]
        self.num_buffers = 0
        self.running = False
        self.drained = threading.Event()

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def is_acquiring(self) -> bool:
        return self.running

    def try_fetch(self, timeout: float) -> FakeBuffer | None:
        if not self.script:
            self.drained.set()
            threading.Event().wait(timeout)  # like a real producer with nothing to deliver
            return None
        buffer, lines = self.script.pop(0)
        self.node_map.ChunkLineStatusAll.value = lines
        return buffer


def test_acquisition_thread_tags_counts_gaps_and_copies_before_requeue() -> None:
    from drivers.genicam_camera import GenICamCamera, GenICamSettings

    shape = (4, 6)
    # frame 3 is missing; Line2 (bit 2) carries the chopper reference
    acquirer = FakeAcquirer([(1, 0b100), (2, 0b000), (4, 0b100), (5, 0b001)], shape)
    cam = GenICamCamera(
        "camera",
        GenICamSettings(
            cti="unused.cti", pixel_format="Mono16", pump_tag_line="Line2", ring_frames=8
        ),
    )
    cam._ia = acquirer
    cam._tagged = True
    cam._config = CameraConfig(Roi(0, 0, shape[1], shape[0]), 100.0, 100.0, "Mono16")
    cam.start()
    block = cam.read(4, timeout_s=10.0)
    assert acquirer.drained.wait(10.0)
    cam.stop()
    assert not cam.acquiring and not acquirer.running
    assert block.frame_id.tolist() == [1, 2, 4, 5]
    assert block.pump_on is not None and block.pump_on.tolist() == [True, False, True, False]
    assert block.dropped == 1 and cam.dropped_frames == 1
    assert [int(block.data[i, 0, 0]) for i in range(4)] == [1, 2, 4, 5]  # copies survived
    assert block.timestamp_s.tolist() == pytest.approx([1e-3, 2e-3, 4e-3, 5e-3])
    assert cam.status()["timestamps"] == "camera"
    with pytest.raises(DeviceStateError, match="stopped"):
        cam.read(1, timeout_s=10.0)  # stopped and drained: no wait for the timeout


def test_missing_producer_is_an_input_error_naming_the_field(tmp_path: Any) -> None:
    from drivers.genicam_camera import GenICamCamera, GenICamSettings
    from tamrig.errors import ConfigError

    cam = GenICamCamera("camera", GenICamSettings(cti=str(tmp_path / "absent.cti")))
    with pytest.raises(ConfigError, match=r"devices\.camera\.cti.*absent\.cti"):
        cam.connect()
    assert not cam.connected


class FailingAcquirer(FakeAcquirer):
    """Delivers its script, then the producer fails (camera unplugged)."""

    def try_fetch(self, timeout: float) -> FakeBuffer | None:
        if not self.script:
            raise RuntimeError("GenTL error -1006: invalid handle")
        return super().try_fetch(timeout)


def _scripted_camera(acquirer: FakeAcquirer) -> Any:
    from drivers.genicam_camera import GenICamCamera, GenICamSettings

    cam = GenICamCamera("camera", GenICamSettings(cti="unused.cti", pixel_format="Mono16"))
    cam._ia = acquirer
    cam._config = CameraConfig(Roi(0, 0, 6, 4), 100.0, 100.0, "Mono16")
    return cam


def test_producer_failure_ends_acquisition_and_reaches_the_reader() -> None:
    from tamrig.errors import DeviceTimeout

    cam = _scripted_camera(FailingAcquirer([(1, 0), (2, 0)], (4, 6)))
    cam.start()
    assert cam.read(2, timeout_s=10.0).frame_id.tolist() == [1, 2]
    with pytest.raises(DeviceStateError, match="invalid handle"):
        cam.read(1, timeout_s=10.0)
    assert not cam.acquiring
    cam.stop()
    idle = _scripted_camera(FakeAcquirer([], (4, 6)))
    idle.start()
    with pytest.raises(DeviceTimeout, match="stalled"):
        idle.read(1, timeout_s=0.0)
    idle.stop()


class GatedAcquirer(FakeAcquirer):
    """A producer the test feeds: ``deliver`` puts frames on the output queue, ``hold`` keeps
    the acquisition thread from fetching them (they wait in the queue, as GenTL counts).
    ``flushable``: the data stream empties its output queue on request while streaming."""

    def __init__(self, shape: tuple[int, int], flushable: bool = True) -> None:
        super().__init__([], shape)
        self.shape = shape
        self.cond = threading.Condition()
        self.hold = False
        self.starts = self.stops = self.popped = 0
        self.empty_waits: list[float] = []  # timeouts of fetches with nothing queued
        self.flushed: list[int] = []
        module = self if flushable else type("Module", (), {})()
        if not flushable:
            for name in ("num_awaiting_delivery", "num_delivered"):
                setattr(type(module), name, property(lambda _m, n=name: getattr(self, n)))
        stream = type("Stream", (), {})()
        stream.module = module  # GenTL's data-stream module
        self.data_streams = [stream]

    @property
    def num_awaiting_delivery(self) -> int:
        with self.cond:
            return len(self.script)

    @property
    def num_delivered(self) -> int:
        with self.cond:
            return self.popped

    def flush_buffer_queue(self, kind: int) -> None:
        from genicam.gentl import ACQ_QUEUE_TYPE_LIST

        with self.cond:
            if kind == ACQ_QUEUE_TYPE_LIST.ACQ_QUEUE_OUTPUT_DISCARD:
                self.flushed += [buffer.module.frame_id for buffer, _ in self.script]
                self.script.clear()
            self.cond.notify_all()

    def wait_flushed(self, frames: list[int]) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.flushed == frames, timeout=10.0)

    def start(self) -> None:
        self.starts += 1
        super().start()

    def stop(self) -> None:
        self.stops += 1
        super().stop()

    def deliver(self, *frames: tuple[int, int]) -> None:
        with self.cond:
            for fid, lines in frames:
                image = np.full(self.shape, fid, dtype=np.uint16)
                self.script.append((FakeBuffer(fid, image, 1_000_000 * fid), lines))
            self.cond.notify_all()

    def try_fetch(self, timeout: float) -> FakeBuffer | None:
        with self.cond:
            if not self.script:
                self.empty_waits.append(timeout)
            if self.hold or not self.script:
                self.cond.wait(timeout)
            if self.hold or not self.script:
                return None
            buffer, lines = self.script.pop(0)
            self.popped += 1
            self.node_map.ChunkLineStatusAll.value = lines
            self.cond.notify_all()
            return buffer

    def wait_fetched(self) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: not self.script, timeout=10.0)


@pytest.mark.parametrize("flushable", [True, False], ids=["queue-flushed", "queue-skipped"])
def test_discard_keeps_the_stream_armed_and_skips_frames_exposed_before_it(
    flushable: bool,
) -> None:
    """The ring's frames, the producer's queued ones (flushed by the acquisition thread, or
    fetched and skipped when the producer cannot flush) and the guard frames after them are
    left out; ids keep counting, tags stay on their frames, only later losses are drops."""
    from drivers.genicam_camera import GenICamCamera, GenICamSettings

    shape = (2, 3)
    acquirer = GatedAcquirer(shape, flushable)
    cam = GenICamCamera(
        "camera",
        GenICamSettings(cti="unused.cti", pixel_format="Mono16", pump_tag_line="Line1"),
    )
    cam._ia, cam._tagged = acquirer, True
    # 100 frames/s, 1 ms exposure, delivery within a period: 2 guard frames
    cam._config = CameraConfig(Roi(0, 0, 3, 2), 1000.0, 100.0, "Mono16")
    assert cam.guard_frames() == 2
    chopper = [(fid, 0b10 * (fid % 2)) for fid in range(1, 30)]  # Line1 high on odd frames
    cam.start()
    try:
        acquirer.deliver(*chopper[0:4])
        assert cam.read(4, timeout_s=10.0).frame_id.tolist() == [1, 2, 3, 4]
        acquirer.deliver(chopper[4], chopper[6])  # 5, 7 (6 lost): in the ring, unread
        acquirer.wait_fetched()
        acquirer.hold = True
        acquirer.deliver(*chopper[7:9])  # 8, 9 wait in the producer's queue
        cam.discard_pending()
        assert cam.acquiring and cam.dropped_frames == 0  # 6 was stale: not a drop
        if flushable:
            acquirer.wait_flushed([8, 9])  # before anything new arrives
        acquirer.hold = False
        # 10: first frame not queued at the call; 11 stale too; 12 the first kept
        acquirer.deliver(*chopper[9:13], chopper[14])  # 10-13, then 15 (14 lost)
        block = cam.read(3, timeout_s=10.0)
        assert block.frame_id.tolist() == [12, 13, 15] and block.dropped == 1
        assert block.pump_on is not None and block.pump_on.tolist() == [False, True, True]
        assert [int(block.data[i, 0, 0]) for i in range(3)] == [12, 13, 15]
        assert cam.dropped_frames == 1
        assert (acquirer.starts, acquirer.stops) == (1, 0)  # never re-armed
        skipped = 2 + 2 if flushable else 2 + 4  # the ring's, the guard (and the queued)
        assert cam._ring is not None and cam._ring.discarded == skipped
    finally:
        cam.stop()
    assert (acquirer.starts, acquirer.stops) == (1, 1) and not cam.acquiring
    cam.discard_pending()  # stopped: nothing to drop


def test_an_idle_acquisition_thread_waits_outside_the_producers_fetch() -> None:
    """harvesters' fetch holds the GIL while it waits; with nothing queued the thread must
    wait on its own (GIL released), calling fetch only for a frame that is there."""
    from drivers.genicam_camera import IDLE_POLL_S, GenICamCamera, GenICamSettings

    acquirer = GatedAcquirer((2, 3))
    cam = GenICamCamera("camera", GenICamSettings(cti="unused.cti", pixel_format="Mono16"))
    cam._ia = acquirer
    cam._config = CameraConfig(Roi(0, 0, 3, 2), 1000.0, 100.0, "Mono16")
    cam.start()
    try:
        acquirer.deliver((1, 0), (2, 0), (3, 0))
        assert cam.read(3, timeout_s=10.0).frame_id.tolist() == [1, 2, 3]
        # nothing queued: at most a short check now and then, never a wait inside fetch
        assert max(acquirer.empty_waits, default=0.0) <= IDLE_POLL_S
    finally:
        cam.stop()


class MiscountingAcquirer(GatedAcquirer):
    """Says nothing waits in its output queue, whatever does."""

    @property
    def num_awaiting_delivery(self) -> int:
        return 0


def test_a_queue_count_that_stays_zero_does_not_stall_the_stream() -> None:
    cam = _scripted_camera(MiscountingAcquirer((4, 6)))
    cam.start()
    try:
        cam._ia.deliver((1, 0), (2, 0), (3, 0))
        assert cam.read(3, timeout_s=10.0).frame_id.tolist() == [1, 2, 3]
    finally:
        cam.stop()


def test_discard_after_a_producer_failure_reports_it() -> None:
    cam = _scripted_camera(FailingAcquirer([(1, 0)], (4, 6)))
    cam.start()
    assert cam.read(1, timeout_s=10.0).frame_id.tolist() == [1]
    with pytest.raises(DeviceStateError, match="invalid handle"):
        cam.read(1, timeout_s=10.0)
    with pytest.raises(DeviceStateError, match="invalid handle"):
        cam.discard_pending()
    cam.stop()


def test_guard_frames_follow_exposure_latency_and_a_measured_trigger_period() -> None:
    from drivers.genicam_camera import GenICamCamera, GenICamSettings

    def camera(latency: float | None, config: CameraConfig) -> Any:
        cam = GenICamCamera("camera", GenICamSettings(cti="unused.cti", delivery_latency_s=latency))
        cam._config = config
        return cam

    free = CameraConfig(Roi(0, 0, 8, 8), 0.0, 200.0, "Mono8")  # exposure unknown: a period
    assert camera(None, free).guard_frames() == 2
    assert camera(0.012, free).guard_frames() == 4  # (5 + 12) ms / 5 ms
    slow = CameraConfig(Roi(0, 0, 8, 8), 2000.0, 10.0, "Mono12")
    assert camera(0.004, slow).guard_frames() == 1  # 6 ms of a 100 ms period
    triggered = camera(0.001, CameraConfig(Roi(0, 0, 8, 8), 900.0, 0.0, "Mono12", "hardware"))
    assert triggered.guard_frames() == 2  # no rate and no frame yet: assume two
    triggered._first_seen, triggered._last_seen = (10, 1.0), (110, 2.0)  # 100 Hz measured
    assert triggered.frame_period_s() == pytest.approx(0.01)
    assert triggered.guard_frames() == 1  # (0.9 + 1) ms within one 10 ms period
