"""A FUSE filesystem that forgets every write not made durable by fsync when it is killed.

It models a machine losing power: the kernel's page cache is this process's memory. Writes,
truncations and the content of new files stay in memory (``_volatile``) until the file is
fsynced (``fsync``/``fdatasync``), which copies the file's bytes to the backing directory and
fsyncs them there. SIGKILL this process and everything not fsynced is gone, exactly what a power
cut does to a database that skipped its fsyncs; a new mount over the same backing directory
shows only what was synced. Metadata (creating, renaming, removing a file) is durable at once,
which is kinder than real hardware, so a test that loses data here loses it anywhere.

Run: ``python -m tests.faults.powercut_fs BACKING_DIR MOUNTPOINT`` (root, ``/dev/fuse``, libfuse3
from Debian's ``fuse3``); it stays in the foreground until unmounted or killed.
"""

from __future__ import annotations

import errno
import os
import sys

import mfusepy as fuse


class PowercutFS(fuse.Operations):
    """Pass-through to ``backing``, holding unsynced file content in memory."""

    use_ns = True

    def __init__(self, backing: str) -> None:
        self.backing = backing
        self._volatile: dict[str, bytearray] = {}

    def _real(self, path: str) -> str:
        return os.path.join(self.backing, path.lstrip("/"))

    def _content(self, path: str) -> bytearray:
        """The file's current bytes, loaded into memory from the backing file on first write."""
        if path not in self._volatile:
            with open(self._real(path), "rb") as durable:
                self._volatile[path] = bytearray(durable.read())
        return self._volatile[path]

    # Metadata: straight to the backing directory.
    def getattr(self, path: str, fh: int | None = None) -> dict:
        try:
            st = os.lstat(self._real(path))
        except FileNotFoundError:
            raise fuse.FuseOSError(errno.ENOENT) from None
        attrs = {key: getattr(st, key) for key in (
            "st_mode", "st_nlink", "st_uid", "st_gid", "st_size",
            "st_atime_ns", "st_mtime_ns", "st_ctime_ns")}
        for key in ("st_atime", "st_mtime", "st_ctime"):
            attrs[key] = attrs.pop(key + "_ns")
        if path in self._volatile:
            attrs["st_size"] = len(self._volatile[path])
        return attrs

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *os.listdir(self._real(path))]

    def access(self, path: str, amode: int) -> int:
        if not os.access(self._real(path), amode):
            raise fuse.FuseOSError(errno.EACCES)
        return 0

    def statfs(self, path: str) -> dict:
        st = os.statvfs(self._real(path))
        return {key: getattr(st, key) for key in (
            "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files",
            "f_flag", "f_frsize", "f_namemax")}

    def mkdir(self, path: str, mode: int) -> int:
        os.mkdir(self._real(path), mode)
        return 0

    def rmdir(self, path: str) -> int:
        os.rmdir(self._real(path))
        return 0

    def chmod(self, path: str, mode: int) -> int:
        os.chmod(self._real(path), mode)
        return 0

    def chown(self, path: str, uid: int, gid: int) -> int:
        os.chown(self._real(path), uid, gid)
        return 0

    def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
        os.utime(self._real(path), ns=times)
        return 0

    def unlink(self, path: str) -> int:
        os.unlink(self._real(path))
        self._volatile.pop(path, None)
        return 0

    def rename(self, old: str, new: str) -> int:
        os.rename(self._real(old), self._real(new))
        if old in self._volatile:
            self._volatile[new] = self._volatile.pop(old)
        else:
            self._volatile.pop(new, None)
        return 0

    # File content: in memory until fsync.
    def create(self, path: str, mode: int, fi=None) -> int:
        os.close(os.open(self._real(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode))
        self._volatile[path] = bytearray()
        return 0

    def open(self, path: str, flags: int) -> int:
        if not os.path.exists(self._real(path)):
            raise fuse.FuseOSError(errno.ENOENT)
        if flags & os.O_TRUNC:
            self._content(path).clear()
        return 0

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        if path in self._volatile:
            return bytes(self._volatile[path][offset:offset + size])
        with open(self._real(path), "rb") as durable:
            durable.seek(offset)
            return durable.read(size)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        content = self._content(path)
        if offset > len(content):
            content.extend(bytes(offset - len(content)))
        content[offset:offset + len(data)] = data
        return len(data)

    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        content = self._content(path)
        del content[length:]
        content.extend(bytes(length - len(content)))
        return 0

    def fsync(self, path: str, datasync: int, fh: int) -> int:
        content = self._volatile.pop(path, None)
        if content is not None:
            with open(self._real(path), "r+b") as durable:
                durable.write(content)
                durable.truncate(len(content))
                durable.flush()
                os.fsync(durable.fileno())
        return 0

    def fsyncdir(self, path: str, datasync: int, fh: int) -> int:
        return 0

    def flush(self, path: str, fh: int) -> int:
        return 0  # closing a file makes nothing durable, as on a real machine

    def release(self, path: str, fh: int) -> int:
        return 0


def main() -> None:
    backing, mountpoint = sys.argv[1], sys.argv[2]
    # One thread: operations never race on _volatile. No kernel write-back cache, so every
    # write reaches this process (and is lost with it) rather than the kernel's own cache.
    fuse.FUSE(PowercutFS(backing), mountpoint, foreground=True, nothreads=True)


if __name__ == "__main__":
    main()
