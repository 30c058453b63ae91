"""Fuzz the driver reply parsers that work on bytes alone (Thorlabs APT framing).

Replies arrive in arbitrary pieces over a serial line: the unpacker must give back exactly
the messages that were sent, whatever the chunking, and never raise on junk.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import apt_protocol as apt

messages = st.one_of(
    st.builds(
        apt.short,
        st.integers(0, 0xFFFF),
        st.integers(0, 0x7F),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
    st.builds(
        apt.long,
        st.integers(0, 0xFFFF),
        st.integers(0, 0x7F),
        st.binary(max_size=40),
        st.integers(0, 255),
    ),
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(messages, max_size=8), st.lists(st.integers(1, 17), min_size=1, max_size=8))
def test_unpacker_reassembles_any_chunking(sent: list[apt.Message], cuts: list[int]) -> None:
    stream = b"".join(m.pack() for m in sent)
    unpacker = apt.Unpacker()
    got: list[apt.Message] = []
    at, i = 0, 0
    while at < len(stream):
        n = cuts[i % len(cuts)]
        unpacker.feed(stream[at : at + n])
        got.extend(unpacker)
        at, i = at + n, i + 1
    assert [m.pack() for m in got] == [m.pack() for m in sent]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=200))
def test_unpacker_never_raises_on_junk(junk: bytes) -> None:
    unpacker = apt.Unpacker()
    unpacker.feed(junk)
    for message in unpacker:
        assert 0 <= message.msg_id <= 0xFFFF
