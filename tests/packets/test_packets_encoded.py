"""Frames encoded in workers and merged in the parent give exactly the bytes of one writer."""

from __future__ import annotations

import io
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets.encoded_frames import EncodedFrames, merge_runs, write_placed
from testbed.packets.pcapng import EpbEncoder, PcapngWriter

# Few distinct times, so that ties between parts are common; frames of every length mod 4.
_record = st.tuples(st.integers(0, 40), st.binary(min_size=14, max_size=21),
                    st.sampled_from([None, "evt-1", "benign:dns"]))
_part = st.lists(_record, max_size=30).map(lambda rs: sorted(rs, key=lambda r: r[0]))


def _written(write) -> bytes:
    buf = io.BytesIO()
    writer = PcapngWriter(buf)
    write(writer)
    return buf.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.lists(_part, min_size=1, max_size=4))
def test_merged_parts_match_a_stable_sort_of_all_frames(parts: list[list[tuple]]) -> None:
    encoded = [EpbEncoder().encode(p) for p in parts]
    # What the single-process run does: concatenate the parts in order, stable-sort by time, write.
    expected = sorted((r for p in parts for r in p), key=lambda r: r[0])
    assert _written(lambda w: w.write_encoded(encoded)) == _written(lambda w: w.write_many(expected))
    runs = merge_runs(encoded)
    assert sum(j - i for _, i, j in runs) == len(expected)


def test_parts_in_files_are_copied_in_order(tmp_path) -> None:
    records = [[(1, bytes(60), "a"), (3, bytes(61), "b"), (3, bytes(62), "b")], [(2, bytes(63), None), (3, bytes(64), "c")]]
    parts = []
    for k, rs in enumerate(records):
        path = tmp_path / f"part{k}.epb"
        frames = EpbEncoder().encode(rs)
        path.write_bytes(b"junk before the blocks" + frames.blob)
        parts.append(EncodedFrames(frames.times, frames.ends, path=str(path), offset=len(b"junk before the blocks")))
    in_memory = [EpbEncoder().encode(rs) for rs in records]
    with PcapngWriter(tmp_path / "from-files.pcapng") as w:
        w.write_encoded(parts[:1])
        w.write_encoded([parts[1], in_memory[0]])  # mixed: file and memory parts
        w.write(9, bytes(70), "after")  # the buffered writer carries on after the copied bytes
        count = w.frames_written
    with PcapngWriter(tmp_path / "direct.pcapng") as w:
        w.write_many(records[0])
        w.write_many(sorted(records[1] + records[0], key=lambda r: r[0]))
        w.write(9, bytes(70), "after")
    assert (tmp_path / "from-files.pcapng").read_bytes() == (tmp_path / "direct.pcapng").read_bytes()
    assert count == 9


def test_reserved_room_written_by_the_parts_owners_matches_one_writer(tmp_path) -> None:
    records = [[(1, bytes(60), "a"), (3, bytes(61), "b")], [(2, bytes(63), None), (3, bytes(64), "c"), (5, bytes(65), "d")]]
    encoded = [EpbEncoder().encode(rs) for rs in records]
    path = tmp_path / "placed.pcapng"
    with PcapngWriter(path) as w:
        placements = w.reserve([EncodedFrames(e.times, e.ends) for e in encoded])  # times and offsets only
        fd = os.open(path, os.O_WRONLY)
        try:
            for frames, placement in zip(reversed(encoded), reversed(placements), strict=True):  # any order
                write_placed(fd, frames.blob, placement)
        finally:
            os.close(fd)
        assert (w.frames_written, w.bytes_written) == (5, path.stat().st_size)
    direct = _written(lambda w: w.write_many(sorted(records[0] + records[1], key=lambda r: r[0])))
    assert path.read_bytes() == direct


def test_nothing_to_merge_writes_nothing() -> None:
    assert _written(lambda w: w.write_encoded([])) == _written(lambda w: None)
    assert _written(lambda w: w.write_encoded([EncodedFrames(), EncodedFrames()])) == _written(lambda w: None)


def test_write_encoded_counts_frames() -> None:
    buf = io.BytesIO()
    writer = PcapngWriter(buf)
    writer.write_encoded([EpbEncoder().encode([(1, bytes(60), "a"), (2, bytes(61), None)])])
    assert writer.frames_written == 2
    assert writer.bytes_written == len(buf.getvalue())
