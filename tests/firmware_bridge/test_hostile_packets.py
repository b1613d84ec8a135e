"""Real sensors' bytes (issue 17 item 10): WitMotion frames split across notifications or
after stray bytes, classic BWT901CL units, the DOT's output rate and medium payload."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.adapters import UNSUPPORTED, DotAdapter, WitMotionAdapter, profile_of
from firmware_bridge.profiles import movella_dot as DOT
from firmware_bridge.profiles import witmotion as WIT
from firmware_bridge.profiles.spinewatch import PacketError

RNG = np.random.default_rng(17)
ACC = RNG.normal(0, 5, (4, 3))
GYR = RNG.normal(0, 2, (4, 3))
EUL = RNG.uniform(-3, 3, (4, 3))
FRAMES = WIT.encode_data(ACC, GYR, EUL)  # 4 frames, 80 bytes, as the sensor sends them
WHOLE = WIT.decode(FRAMES)


def _feed(stream: WIT.WitStream, parts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    got = [stream.push(p) for p in parts]
    return np.vstack([g.acc for g in got]), np.vstack([g.gyr for g in got])


def test_frame_split_12_plus_8_decodes() -> None:
    s = WIT.WitStream()
    first = s.push(FRAMES[:12])
    assert first.n == 0
    second = s.push(FRAMES[12:20])
    np.testing.assert_array_equal(second.acc, WHOLE.acc[:1])
    assert s.garbage_bytes == 0 and s.bad_frames == 0


def test_stray_leading_bytes_are_skipped_and_counted() -> None:
    s = WIT.WitStream()
    out = s.push(b"\x00\x13\x37" + FRAMES[:40])
    np.testing.assert_array_equal(out.gyr, WHOLE.gyr[:2])
    assert s.garbage_bytes == 3


def test_partial_frame_whose_tail_was_lost_is_dropped_not_mixed() -> None:
    s = WIT.WitStream()
    s.push(FRAMES[:12])  # the rest of frame 0 never arrives
    out = s.push(FRAMES[20:40])  # frame 1, whole
    np.testing.assert_array_equal(out.acc, WHOLE.acc[1:2])
    assert s.garbage_bytes == 12


def test_error_names_the_offending_frame_type() -> None:
    bad = bytearray(FRAMES)
    bad[41] = 0x62  # frame 2 of an unknown type
    with pytest.raises(PacketError, match=r"type 0x62 \(frame 2\)"):
        WIT.decode(bytes(bad))
    s = WIT.WitStream()
    out = s.push(bytes(bad))
    assert out.n == 3 and s.bad_frames == 1 and "0x62" in s.last_error


def test_classic_11_byte_frames_are_named() -> None:
    classic = bytes([0x55, 0x51]) + bytes(8) + bytes([0xA6])  # one 11-byte acc frame
    with pytest.raises(PacketError, match="BWT901CL"):
        WIT.decode(classic * 20)
    s = WIT.WitStream()
    s.push(classic * 3)
    assert "BWT901CL (classic 11-byte protocol) is not supported" in s.last_error


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 79), max_size=8, unique=True))
def test_any_split_gives_the_same_samples(cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), len(FRAMES)]
    acc, gyr = _feed(WIT.WitStream(), [FRAMES[a:b] for a, b in zip(edges, edges[1:], strict=False)])
    np.testing.assert_array_equal(acc, WHOLE.acc)
    np.testing.assert_array_equal(gyr, WHOLE.gyr)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=45), max_size=10))
def test_stream_never_raises_and_stays_bounded(parts: list[bytes]) -> None:
    s = WIT.WitStream()
    for p in parts:
        s.push(p)
        assert len(s._pending) < WIT.FRAME


def test_adapter_reassembles_across_notifications() -> None:
    a = WitMotionAdapter("lumbar", 100.0)
    assert a.feed(FRAMES[:12], 1.0) is None
    blk = a.feed(FRAMES[12:40] + b"\xff", 1.01)
    assert blk is not None and len(blk) == 2 and a.bad_packets == 0
    np.testing.assert_array_equal(blk.acc, WHOLE.acc[:2])


def test_bwt901cl_recognised_in_scan_and_explained() -> None:
    assert profile_of([WIT.CLASSIC_SERVICE_UUID.upper()], "HC-42") == "witmotion-classic"
    assert profile_of([], "BWT901CL") == "witmotion-classic"
    assert profile_of([], "WT901BLE68") == "witmotion"
    assert "use the WT901BLE/BWT901BLECL" in UNSUPPORTED["witmotion-classic"]


class FakeDot:
    def __init__(self) -> None:
        self.control = bytearray(32)
        self.control[8:17] = b"Xsens DOT"
        self.writes: list[tuple[str, bytes]] = []

    async def read_gatt_char(self, char: str) -> bytearray:
        assert char == DOT.DEVICE_CONTROL_UUID
        return bytearray(self.control)

    async def write_gatt_char(self, char: str, data: bytes, response: bool = True) -> None:
        self.writes.append((char, bytes(data)))


@pytest.mark.parametrize(("asked", "sent"), [(60.0, 60), (100.0, 60), (50.0, 30), (0.5, 1)])
def test_dot_adapter_writes_the_output_rate(asked: float, sent: int) -> None:
    dev = FakeDot()
    a = DotAdapter("thoracic", asked)
    asyncio.run(a.setup(dev))
    (c1, rate_cmd), (c2, measure) = dev.writes
    assert c1 == DOT.DEVICE_CONTROL_UUID and c2 == DOT.CONTROL_UUID
    assert rate_cmd[0] == 0x10 and int.from_bytes(rate_cmd[24:26], "little") == sent
    assert rate_cmd[8:17] == b"Xsens DOT"  # the rest of the characteristic is kept
    assert a.rate_hz == sent and measure == DOT.cmd_measure(a.mode)


def test_dot_adapter_listens_on_the_medium_payload_too() -> None:
    a = DotAdapter("thoracic", 60.0, mode="orientation-quaternion")
    assert a.data_uuid == DOT.SHORT_PAYLOAD_UUID and a.extra_uuids == (DOT.MEDIUM_PAYLOAD_UUID,)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    padded = DOT.encode(1000, a.mode, quat=q) + bytes(20 - 20)  # medium payloads are padded
    blk = a.feed(padded + bytes(40 - len(padded)), 1.0)
    assert blk is not None
    assert DotAdapter("lumbar").extra_uuids == ()  # rate quantities already use the medium one
