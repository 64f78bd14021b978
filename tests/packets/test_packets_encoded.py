"""Frames encoded in workers and merged in the parent give exactly the bytes of one writer."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
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


def _in_file(directory: Path, name: str, frames: EncodedFrames) -> EncodedFrames:
    """``frames`` as a shard part file holds them: after other bytes, known by path and offset."""
    path = directory / name
    path.write_bytes(b"junk before the blocks" + frames.blob)
    return EncodedFrames(frames.times, frames.ends, path=str(path), offset=len(b"junk before the blocks"))


def _place(w: PcapngWriter, encoded: list[EncodedFrames]) -> None:
    """What the process pool does per window: the writer reserves room, each part's owner writes its runs."""
    w.flush()
    placements = w.reserve([EncodedFrames(e.times, e.ends) for e in encoded])  # times and offsets only
    fd = os.open(w.path, os.O_WRONLY)
    try:
        for frames, placement in zip(reversed(encoded), reversed(placements), strict=True):  # any order
            write_placed(fd, frames.blob, placement)
    finally:
        os.close(fd)


def _placed(path: Path, encoded: list[EncodedFrames]) -> PcapngWriter:
    """A capture of one window written as the process pool writes it."""
    with PcapngWriter(path) as w:
        _place(w, encoded)
    return w


@settings(max_examples=200, deadline=None)
@given(st.lists(_part, min_size=1, max_size=4))
def test_merged_parts_match_a_stable_sort_of_all_frames(parts: list[list[tuple]]) -> None:
    encoded = [EpbEncoder().encode(p) for p in parts]
    # What the single-process run does: concatenate the parts in order, stable-sort by time, write.
    expected = _written(lambda w: w.write_many(sorted((r for p in parts for r in p), key=lambda r: r[0])))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _placed(d / "placed.pcapng", encoded)
        assert (d / "placed.pcapng").read_bytes() == expected
        with PcapngWriter(d / "copied.pcapng") as w:
            w.write_encoded([_in_file(d, f"part{k}", e) for k, e in enumerate(encoded)])
        assert (d / "copied.pcapng").read_bytes() == expected
    runs = merge_runs(encoded)
    assert sum(j - i for _, i, j in runs) == sum(len(p) for p in parts)


def test_parts_in_files_are_copied_in_order(tmp_path) -> None:
    records = [[(1, bytes(60), "a"), (3, bytes(61), "b"), (3, bytes(62), "b")], [(2, bytes(63), None), (3, bytes(64), "c")]]
    parts = [_in_file(tmp_path, f"part{k}.epb", EpbEncoder().encode(rs)) for k, rs in enumerate(records)]
    with PcapngWriter(tmp_path / "from-files.pcapng") as w:
        w.write_encoded(parts[:1])
        w.write_encoded([parts[1], parts[0]])  # ties: the first part given goes first
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
    path = tmp_path / "placed.pcapng"
    w = _placed(path, [EpbEncoder().encode(rs) for rs in records])
    assert (w.frames_written, w.bytes_written) == (5, path.stat().st_size)
    direct = _written(lambda w: w.write_many(sorted(records[0] + records[1], key=lambda r: r[0])))
    assert path.read_bytes() == direct


def test_nothing_to_merge_writes_nothing() -> None:
    assert _written(lambda w: w.write_encoded([])) == _written(lambda w: None)
    assert _written(lambda w: w.write_encoded([EncodedFrames(), EncodedFrames()])) == _written(lambda w: None)


def test_write_encoded_counts_frames(tmp_path) -> None:
    part = _in_file(tmp_path, "part", EpbEncoder().encode([(1, bytes(60), "a"), (2, bytes(61), None)]))
    with PcapngWriter(tmp_path / "out.pcapng") as writer:
        writer.write_encoded([part])
    assert writer.frames_written == 2
    assert writer.bytes_written == (tmp_path / "out.pcapng").stat().st_size


def test_written_capture_is_released_to_the_kernel_behind_the_writer(tmp_path, monkeypatch) -> None:
    """Both ways of writing (one process; room reserved for others, then hashed) hand the bytes behind
    them back to the kernel's cache as they go, never the latest ones, and the bytes and digest stay right."""
    import hashlib

    from testbed.packets import pcapng

    monkeypatch.setattr(pcapng, "RELEASE_EVERY", 4096)
    monkeypatch.setattr(pcapng, "RELEASE_LAG", 2048)
    monkeypatch.setattr(pcapng, "RELEASE_REVISIT", 8192)
    hints: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def recorded(fd: int, offset: int, length: int, advice: int) -> None:
        hints.append((offset, offset + length))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recorded)
    records = [(t, bytes(200 + t % 7), f"label-{t}") for t in range(400)]
    for how in ("one process", "reserved"):
        hints.clear()
        path = tmp_path / f"{how}.pcapng"
        if how == "one process":
            with PcapngWriter(path) as w:
                for i in range(0, 400, 10):
                    w.write_many(records[i:i + 10])
                digest = w.sha256()
        else:  # as the process pool runs: windows placed, written by their owners, hashed behind them
            with PcapngWriter(path) as w:
                for i in range(0, 400, 40):
                    _place(w, [EpbEncoder().encode(records[i:i + 20]), EpbEncoder().encode(records[i + 20:i + 40])])
                    w.hash_through(w.bytes_written)
                digest = w.sha256()
        data = path.read_bytes()
        assert digest == hashlib.sha256(data).hexdigest()
        assert hints, how
        assert all(0 <= a < b <= len(data) - 2048 for a, b in hints), how  # never the latest bytes
        covered = max(b for _, b in hints)
        assert covered >= len(data) - 2048 - 4096, how  # everything but the lag and one step
        assert all(b2 > b1 for (_, b1), (_, b2) in zip(hints, hints[1:], strict=False)), how  # moving on
        assert hints[0][0] == 0


def test_a_capture_hashed_by_its_direct_file_has_the_bytes_and_digest_of_one_hashed_by_the_writer(tmp_path) -> None:
    import hashlib

    from testbed.packets.direct_file import ALIGN, DirectFile

    records = [(t, bytes(60 + t % 1400), f"label-{t}") for t in range(600)]
    with PcapngWriter(tmp_path / "plain.pcapng") as plain:
        for i in range(0, 600, 25):
            plain.write_many(records[i:i + 25])
        expected = plain.sha256()
    with DirectFile(tmp_path / "direct.pcapng", buffer_size=16 * ALIGN, hash=True) as f:
        writer = PcapngWriter(f)
        for i in range(0, 600, 25):
            writer.write_many(records[i:i + 25])
            if i == 300:
                assert writer.sha256() == hashlib.sha256((tmp_path / "plain.pcapng").read_bytes()[:writer.bytes_written]).hexdigest()
        digest = writer.sha256()
        writer.close()
    assert (tmp_path / "direct.pcapng").read_bytes() == (tmp_path / "plain.pcapng").read_bytes()
    assert digest == expected == hashlib.sha256((tmp_path / "direct.pcapng").read_bytes()).hexdigest()
    assert writer.bytes_written == (tmp_path / "direct.pcapng").stat().st_size


def test_a_file_that_hashes_itself_refuses_bytes_written_behind_it(tmp_path) -> None:
    from testbed.packets.direct_file import DirectFile

    with DirectFile(tmp_path / "capture.pcapng", hash=True) as f:
        writer = PcapngWriter(f)
        part = EpbEncoder().encode([(1, bytes(60), "x")])
        with pytest.raises(ValueError, match="reserve: bytes written by others"):
            writer.reserve([part])
        with pytest.raises(ValueError, match="write_encoded: bytes written by others"):
            writer.write_encoded([part])
