"""A file written once, front to back, around the page cache (``O_DIRECT``) where the filesystem allows.

Why: a capture is gigabytes written once and never read back by the run. Through the page cache, each
``write`` copies into freshly allocated cache pages and the kernel later writes and drops them. Measured
here: a 1000 household-hour run (4.5 GB of capture) took 2.8-3.1 s of system time with the capture
written through the cache, 1.4-1.8 s with it written directly; dd wrote 2 GB at 0.38 GB/s buffered against 2.3 GB/s direct. Direct writes go from an aligned buffer of ours to
the device. They need the buffer's address, the file offset and the length aligned to the device's
block, so bytes are staged in a page-aligned buffer and written in whole blocks; what is left at a
``flush`` (a partial last block) goes through the page cache, and is written again, directly, once the
block fills up. Filesystems that refuse ``O_DIRECT`` (tmpfs before Linux 6.6, some FUSE ones) get plain
writes, the same bytes.

A ``DirectFile`` can also keep the sha256 of what it writes (``hash=True``): each full buffer is hashed
by a background thread, not by the caller's. Hashing a 1000 household-hour capture (4.5 GB) takes 2.6 s;
with it moved off the run's thread, four paired runs of that size took 21.0-22.5 s against 21.6-23.8 s
(the CPU time is the same: it is spent on another core).

Full buffers queue in a ring (four by default) and are hashed and written by two threads at once, so
that a burst of frames does not stall the caller: a 1000 household-hour run hands over 2 MB in its median
window, 17 MB in its 90th percentile and 30 MB in its largest (42 homes streaming on an evening). With two
buffers and one thread doing both, the run's thread waited 2.3-3.7 s of that run for them: the writer
needed 3.3 s to hash and 4.6 s to write its 4.5 GB.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

ALIGN = 4096  # a multiple of every device's logical block size (512 or 4096)
BUFFER = 8 << 20  # staged bytes per direct write
BUFFERS = 4  # staging buffers in the ring: one filling, the others queued or being written


class DirectFile:
    """A binary file for sequential writes (``write``, ``flush``, ``close``), created or truncated.

    Staging buffers take turns in a ring: while full ones are written out by a background thread (a
    direct write waits for the device, and that wait needs no core) and hashed by another, the next one
    fills. A buffer is filled again once its write and hash are done. Errors of a background write are
    raised by the call that next needs its buffer, or by ``flush``/``close``, whichever comes first.
    """

    def __init__(self, path: str | os.PathLike[str], buffer_size: int = BUFFER, *, hash: bool = False,
                 buffers: int = BUFFERS) -> None:
        if buffer_size <= 0 or buffer_size % ALIGN:
            raise ValueError(f"buffer_size must be a positive multiple of {ALIGN}, got {buffer_size}")
        if buffers < 2:
            raise ValueError(f"buffers must be at least 2 (one filling, one being written), got {buffers}")
        self.name = os.fspath(path)
        self._fd = os.open(self.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        self._direct = self._open_direct()
        self._buffers = [mmap.mmap(-1, buffer_size) for _ in range(buffers)]  # anonymous: page-aligned, as needed
        self._views = [memoryview(b) for b in self._buffers]
        self._current = 0  # the buffer being filled
        self._size = buffer_size
        self._used = 0  # bytes staged in it
        self._offset = 0  # where they go in the file (always aligned)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="direct-file")
        self._in_flight: list[list[Future[None]]] = [[] for _ in self._views]  # each buffer's write and hash
        # The sha256 of the bytes that left the staging buffers. Only one thread updates it at a time: the
        # hasher (one thread: buffers are hashed in the order they filled), or the caller's after waiting.
        self._sha256 = hashlib.sha256() if hash else None
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="direct-file-hash") if hash else None
        self.closed = False

    def _open_direct(self) -> int | None:
        flag = getattr(os, "O_DIRECT", 0)  # Linux; elsewhere every write goes through the cache
        if not flag:
            return None
        try:
            return os.open(self.name, os.O_WRONLY | flag)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # this filesystem has no direct I/O
                return None
            os.close(self._fd)
            raise

    @property
    def direct(self) -> bool:
        """Whether whole blocks still go around the page cache."""
        return self._direct is not None

    @property
    def hashes(self) -> bool:
        """Whether this file keeps the sha256 of what is written (``hash=True``)."""
        return self._sha256 is not None

    def fileno(self) -> int:
        """The descriptor of plain (cached) writes to the file."""
        return self._fd

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Stage ``data``; every full buffer is written to the file. Returns ``len(data)``."""
        if self.closed:
            raise ValueError(f"{self.name}: write to a closed file")
        source = memoryview(data).cast("B")
        done, n = 0, len(source)
        while done < n:
            room = self.staging()
            take = min(n - done, len(room))
            room[:take] = source[done:done + take]
            self.staged(take)
            done += take
        return n

    def staging(self) -> memoryview:
        """The free room of the buffer being filled (never empty), for a producer to write into directly
        (``staged`` is then told how much it put there): one copy fewer than ``write``."""
        if self.closed:
            raise ValueError(f"{self.name}: write to a closed file")
        return self._views[self._current][self._used:]

    def staged(self, n: int) -> None:
        """``n`` bytes were put at the start of the room ``staging`` gave."""
        if self.closed:
            raise ValueError(f"{self.name}: write to a closed file")
        if not 0 <= n <= self._size - self._used:
            raise ValueError(f"{self.name}: {n} bytes staged, but the room held {self._size - self._used}")
        self._used += n
        if self._used == self._size:
            self._hand_over()

    def _hand_over(self) -> None:
        """The full buffer goes to the background threads; the next one, once out, is filled next.

        The next buffer is waited for first: if its last write failed, this one stays staged.
        """
        following = (self._current + 1) % len(self._views)
        self._wait_for(following)
        view = self._views[self._current]
        jobs = self._in_flight[self._current]
        if self._hasher is not None:
            # hashlib lets go of the GIL while it hashes (and os.pwrite while it writes): the caller runs on.
            jobs.append(self._hasher.submit(self._sha256.update, view))  # type: ignore[union-attr]
        jobs.append(self._writer.submit(self._write_out, view, self._size, self._offset))
        self._offset += self._size
        self._current = following
        self._used = 0

    def _wait_for(self, *indices: int) -> None:
        """Wait until the buffers ``indices`` are written and hashed; raises what a write raised."""
        failure: BaseException | None = None
        for index in indices:
            jobs, self._in_flight[index] = self._in_flight[index], []
            for job in jobs:  # every job is waited for, even after one failed: none may still use a buffer
                try:
                    job.result()
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    failure = failure or exc
        if failure is not None:
            raise failure

    def _wait_all(self) -> None:
        self._wait_for(*range(len(self._views)))

    def _hash_and_write(self, view: memoryview, length: int, offset: int) -> None:
        if self._sha256 is not None:
            self._sha256.update(view[:length])
        self._write_out(view, length, offset)

    def _write_out(self, view: memoryview, length: int, offset: int, *, direct: bool = True) -> None:
        """Write ``view[:length]`` at ``offset``: directly (whole blocks) while the file allows, else cached."""
        done = 0
        while done < length:
            chunk = view[done:length]
            if direct and self._direct is not None:
                try:
                    wrote = os.pwrite(self._direct, chunk, offset + done)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    self._stop_direct()  # the filesystem took the open but refuses the write
                    continue
                if wrote % ALIGN:  # a short write that left the next offset unaligned: go on cached
                    self._stop_direct()
            else:
                wrote = os.pwrite(self._fd, chunk, offset + done)
            if not wrote:
                raise OSError(errno.EIO, f"{self.name}: the file took no bytes at offset {offset + done}")
            done += wrote

    def _stop_direct(self) -> None:
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None

    def flush(self) -> None:
        """Put every staged byte in the file: whole blocks directly, a partial last one through the cache.

        The partial block stays staged too, so that later writes complete it and it is written again whole.
        """
        self._wait_all()
        view = self._views[self._current]
        whole = self._used - self._used % ALIGN
        if whole:
            self._hash_and_write(view, whole, self._offset)
            rest = self._used - whole
            view[:rest] = view[whole:self._used]
            self._used = rest
            self._offset += whole
        self._write_out(view, self._used, self._offset, direct=False)

    def sha256(self) -> str:
        """Hex sha256 of every byte written so far (only for a file opened with ``hash=True``)."""
        if self._sha256 is None:
            raise ValueError(f"{self.name}: opened without hash=True, so it keeps no sha256")
        if self.closed:
            return self._sha256.hexdigest()
        self._wait_all()
        digest = self._sha256.copy()
        digest.update(self._views[self._current][:self._used])  # staged, not yet hashed
        return digest.hexdigest()

    def close(self) -> None:
        """Flush and close; idempotent."""
        if self.closed:
            return
        try:
            self.flush()
            if self._sha256 is not None:  # the last partial block, staged until now
                self._sha256.update(self._views[self._current][:self._used])
        finally:  # flush waited for every write and hash in flight, even when one failed
            self.closed = True
            self._writer.shutdown(wait=True)
            if self._hasher is not None:
                self._hasher.shutdown(wait=True)
            self._stop_direct()
            os.close(self._fd)
            # Unmapped once unreferenced (a failed write's traceback may still hold a view of one).
            self._views, self._buffers = [], []

    def __enter__(self) -> DirectFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
