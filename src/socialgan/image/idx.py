"""Reader for the IDX binary format used by MNIST and Fashion-MNIST.

The format is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian ``uint32`` dimension sizes, then the raw big-endian data. Files may be gzipped.
Every way a file can be wrong (bad gzip stream, bad magic, truncated or over-long data)
raises :class:`~socialgan.errors.DataError` naming the file, because these files usually come
from half-finished downloads and the user needs to know which one to fetch again.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np

from socialgan.errors import DataError

__all__ = ["IDX_DTYPES", "read_idx"]

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class _Readable(Protocol):
    """Anything with ``read(n) -> bytes`` (a file or a GzipFile)."""

    def read(self, size: int = ..., /) -> bytes: ...


_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22


def _read_at_most(stream: _Readable, limit: int) -> bytes:
    """Read up to ``limit`` bytes in chunks, so a lying header cannot force a huge allocation."""
    parts: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _parse(stream: _Readable, name: str) -> np.ndarray:
    """Parse an (already decompressed) IDX stream; ``name`` is used in error messages."""
    magic = _read_at_most(stream, 4)
    if len(magic) < 4:
        raise DataError(
            f"{name}: not an IDX file: expected a 4-byte magic number, found {len(magic)} bytes"
        )
    zero0, zero1, code, ndim = magic
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES or ndim == 0:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(
            f"{name}: not an IDX file: bad magic number 0x{magic.hex().upper()} "
            f"(expected 00 00 <type code in {codes}> <ndim >= 1>, "
            "e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    header = _read_at_most(stream, 4 * ndim)
    if len(header) < 4 * ndim:
        raise DataError(
            f"{name}: truncated IDX header: magic declares {ndim} dimensions "
            f"({4 * ndim} bytes), found {len(header)} bytes"
        )
    dims = struct.unpack(f">{ndim}I", header)
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    data = _read_at_most(stream, expected + 1)
    shape_txt = "x".join(str(d) for d in dims)
    if len(data) < expected:
        raise DataError(
            f"{name}: truncated IDX file: header declares {shape_txt} = {expected} bytes of "
            f"data, found {len(data)}"
        )
    if len(data) > expected:
        raise DataError(
            f"{name}: corrupt IDX file: header declares {shape_txt} = {expected} bytes of "
            "data, but the file is longer"
        )
    arr = np.frombuffer(data, dtype=dtype).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a native-endian numpy array.

    Gzip is detected from the content (magic ``1f 8b``), so a wrongly named file still works;
    a ``.gz`` name whose content is not gzip is reported as such.

    Raises:
        DataError: the file is missing, not gzip despite its name, a corrupt/truncated gzip
            stream, has a bad IDX magic number, or its data length does not match the header.
    """
    path = Path(path)
    name = str(path)
    try:
        with path.open("rb") as raw:
            head = raw.read(2)
            raw.seek(0)
            if head == _GZIP_MAGIC:
                with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                    return _parse(gz, name)
            if path.suffix == ".gz":
                raise DataError(
                    f"{name}: not a gzip file: expected gzip magic 1f8b, found "
                    f"{head.hex() or 'an empty file'}"
                )
            return _parse(raw, name)
    except DataError:
        raise
    except FileNotFoundError as exc:
        raise DataError(f"{name}: file not found") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{name}: corrupt gzip file: {exc}") from exc
    except OSError as exc:
        raise DataError(f"{name}: cannot read IDX file: {exc}") from exc
