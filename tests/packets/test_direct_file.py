"""``DirectFile`` writes exactly the bytes given, in whole blocks around the page cache where it can,
and through it where the filesystem refuses direct I/O."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets import direct_file
from testbed.packets.direct_file import ALIGN, DirectFile

ops = st.lists(st.one_of(st.binary(max_size=3 * ALIGN), st.integers(0, 5 * ALIGN), st.just("flush")), max_size=25)


def _apply(f: DirectFile, steps: list, seed: int) -> bytes:
    written = bytearray()
    for k, step in enumerate(steps):
        if step == "flush":
            f.flush()
            continue
        data = step if isinstance(step, bytes) else bytes((seed + k + i) % 251 for i in range(step))
        assert f.write(data) == len(data)
        written += data
    return bytes(written)


@settings(max_examples=150, deadline=None)
@given(ops, st.integers(0, 250))
def test_the_file_holds_exactly_what_was_written(tmp_path_factory, steps: list, seed: int) -> None:
    path = tmp_path_factory.mktemp("direct") / "capture.bin"
    with DirectFile(path, buffer_size=2 * ALIGN) as f:
        expected = _apply(f, steps, seed)
    assert path.read_bytes() == expected


@settings(max_examples=100, deadline=None)
@given(ops, st.integers(0, 250), st.lists(st.integers(0, 24), max_size=3))
def test_the_sha256_it_keeps_is_that_of_the_bytes_written(tmp_path_factory, steps: list, seed: int,
                                                          asks: list[int]) -> None:
    path = tmp_path_factory.mktemp("direct") / "capture.bin"
    with DirectFile(path, buffer_size=2 * ALIGN, hash=True) as f:
        written = b""
        for k, step in enumerate(steps):
            written += _apply(f, [step], seed + k)
            if k in asks:  # asked midway: the staged bytes count, and writing goes on unharmed
                assert f.sha256() == hashlib.sha256(written).hexdigest()
        assert f.sha256() == hashlib.sha256(written).hexdigest()
    assert f.sha256() == hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(written).hexdigest()


def test_bytes_put_into_its_staging_room_are_written_like_writes(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"
    data = bytes(i % 251 for i in range(5 * ALIGN + 123))
    with DirectFile(path, buffer_size=2 * ALIGN, hash=True) as f:
        f.write(data[:100])
        done = 100
        while done < len(data):
            room = f.staging()
            assert 0 < len(room) <= 2 * ALIGN
            n = min(len(room), len(data) - done, 3000)  # not always filling it
            room[:n] = data[done:done + n]
            f.staged(n)
            done += n
        with pytest.raises(ValueError, match="bytes staged, but the room held"):
            f.staged(2 * ALIGN + 1)
        digest = f.sha256()
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()
    with pytest.raises(ValueError, match="closed"):
        f.staging()
    with pytest.raises(ValueError, match="closed"):
        f.staged(0)


def test_a_file_opened_without_hash_keeps_no_sha256(tmp_path: Path) -> None:
    with DirectFile(tmp_path / "capture.bin") as f:
        assert not f.hashes
        with pytest.raises(ValueError, match="without hash=True"):
            f.sha256()


def test_a_flush_puts_every_byte_in_the_file_and_writing_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"
    with DirectFile(path, buffer_size=2 * ALIGN) as f:
        f.write(b"a" * (ALIGN + 10))
        f.flush()
        assert path.read_bytes() == b"a" * (ALIGN + 10)  # the partial block too, through the cache
        f.write(b"b" * (3 * ALIGN))
        f.flush()
        assert path.read_bytes() == b"a" * (ALIGN + 10) + b"b" * (3 * ALIGN)
    assert path.stat().st_size == 4 * ALIGN + 10


def test_a_filesystem_that_refuses_direct_io_gets_plain_writes(tmp_path: Path, monkeypatch) -> None:
    real = os.open

    def no_direct(path, flags, *mode):
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")  # what open(2) says where O_DIRECT is not supported
        return real(path, flags, *mode)

    monkeypatch.setattr(direct_file.os, "open", no_direct)
    path = tmp_path / "capture.bin"
    with DirectFile(path, buffer_size=ALIGN) as f:
        assert not f.direct
        f.write(bytes(range(256)) * 40)
    assert path.read_bytes() == bytes(range(256)) * 40


def test_a_refused_direct_write_falls_back_without_losing_bytes(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "capture.bin"
    real = os.pwrite
    with DirectFile(path, buffer_size=ALIGN) as f:
        direct_fd = f._direct

        def refuse_direct(fd, data, offset):
            if fd == direct_fd and direct_fd is not None:
                raise OSError(errno.EINVAL, "no direct I/O here")
            return real(fd, data, offset)

        monkeypatch.setattr(direct_file.os, "pwrite", refuse_direct)
        f.write(b"x" * (3 * ALIGN + 5))
        f.flush()  # the full buffers' writes are done by then
        assert not f.direct
    assert path.read_bytes() == b"x" * (3 * ALIGN + 5)


def test_bad_use_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive multiple of 4096, got 1000"):
        DirectFile(tmp_path / "a.bin", buffer_size=1000)
    with pytest.raises(ValueError, match="buffers must be at least 2"):
        DirectFile(tmp_path / "a.bin", buffers=1)
    f = DirectFile(tmp_path / "b.bin")
    f.close()
    f.close()  # idempotent
    with pytest.raises(ValueError, match="write to a closed file"):
        f.write(b"late")


def _full(fd, data, offset):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_background_write_is_raised_by_the_call_that_needs_its_buffer(tmp_path: Path,
                                                                               monkeypatch) -> None:
    f = DirectFile(tmp_path / "capture.bin", buffer_size=ALIGN, buffers=2)
    monkeypatch.setattr(direct_file.os, "pwrite", _full)
    f.write(b"y" * ALIGN)  # fills the first buffer: its write fails in the background
    with pytest.raises(OSError, match="No space left"):
        f.write(b"y" * ALIGN)  # fills the second, and needs the first back to go on
    monkeypatch.undo()
    f.close()


def test_a_failed_background_write_is_raised_by_flush_at_the_latest(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "capture.bin"
    f = DirectFile(path, buffer_size=ALIGN, hash=True)
    monkeypatch.setattr(direct_file.os, "pwrite", _full)
    f.write(b"y" * (2 * ALIGN))  # two of the four buffers queued: no call has needed them back yet
    with pytest.raises(OSError, match="No space left"):
        f.flush()
    monkeypatch.undo()
    f.close()  # the failure was raised once; closing still lets go of the threads and descriptors
    assert f.closed


def test_a_ring_of_buffers_keeps_the_order_of_bytes_and_of_the_hash(tmp_path: Path) -> None:
    # Many more full buffers than the ring holds, hashed and written by two threads.
    path = tmp_path / "capture.bin"
    data = bytes((i * 7) % 253 for i in range(37 * ALIGN + 11))
    with DirectFile(path, buffer_size=ALIGN, hash=True, buffers=3) as f:
        for start in range(0, len(data), 1000):
            f.write(data[start:start + 1000])
        digest = f.sha256()
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()
