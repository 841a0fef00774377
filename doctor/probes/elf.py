"""A small pure-Python ELF reader: the ``DT_NEEDED`` entries of a shared object.

Enough to tell which CUDA runtime a compiled extension links (``libcudart.so.12`` vs
``.so.13``) without ``readelf`` and without loading the library (loading vLLM's ``_C`` on a
broken CUDA stack can crash). Reads only headers, the section table and the dynamic
section, with seeks, so a 400 MB ``.so`` costs a few kilobytes of I/O. Anything malformed
raises :class:`ElfError` with what was wrong.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
DT_NULL = 0
DT_NEEDED = 1
MAX_SECTIONS = 1 << 16
MAX_DYNAMIC_BYTES = 1 << 20
MAX_STRING = 4096


class ElfError(Exception):
    """The file is not an ELF shared object this reader understands."""


def needed_libraries(path: str) -> list[str]:
    """The ``DT_NEEDED`` names of the ELF file at ``path``, in file order."""
    try:
        with open(path, "rb") as handle:
            return _read_needed(handle)
    except struct.error as exc:
        raise ElfError(f"truncated ELF file ({exc})") from None
    except (ValueError, OverflowError):  # an offset beyond any file: seek() refuses it
        raise ElfError("an offset in the ELF headers points outside any file") from None


def _read_needed(handle: BinaryIO) -> list[str]:
    ident = handle.read(16)
    if len(ident) < 16 or ident[:4] != ELF_MAGIC:
        raise ElfError("not an ELF file")
    elf_class, data = ident[4], ident[5]
    if elf_class not in (1, 2) or data not in (1, 2):
        raise ElfError(f"unknown ELF class {elf_class} or byte order {data}")
    is64 = elf_class == 2
    order = "<" if data == 1 else ">"
    header = _exact(handle, 48 if is64 else 36)
    if is64:
        _, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = struct.unpack(order + "HHIQQQIHHHHHH", header)
    else:
        _, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = struct.unpack(order + "HHIIIIIHHHHHH", header)
    if shoff == 0 or shnum == 0:
        raise ElfError("no section table (stripped of sections?)")
    if shnum > MAX_SECTIONS or shentsize < (64 if is64 else 40):
        raise ElfError("implausible section table")
    sections = []
    for index in range(shnum):
        handle.seek(shoff + index * shentsize)
        raw = _exact(handle, 64 if is64 else 40)
        if is64:
            _, kind, _, _, offset, size, link, _, _, entsize = struct.unpack(order + "IIQQQQIIQQ", raw)
        else:
            _, kind, _, _, offset, size, link, _, _, entsize = struct.unpack(order + "IIIIIIIIII", raw)
        sections.append((kind, offset, size, link, entsize))
    dynamic = next((s for s in sections if s[0] == SHT_DYNAMIC), None)
    if dynamic is None:
        return []  # a static object needs nothing
    _, offset, size, link, entsize = dynamic
    if link >= len(sections):
        raise ElfError("dynamic section points at a missing string table")
    entsize = entsize or (16 if is64 else 8)
    handle.seek(offset)
    table = _exact(handle, min(size, MAX_DYNAMIC_BYTES))
    strings_offset = sections[link][1]
    needed = []
    entry_format = order + ("qQ" if is64 else "iI")
    for start in range(0, len(table) - entsize + 1, entsize):
        tag, value = struct.unpack_from(entry_format, table, start)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            needed.append(_string_at(handle, strings_offset + value))
    return needed


def _exact(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise ElfError("truncated ELF file")
    return data


def _string_at(handle: BinaryIO, offset: int) -> str:
    handle.seek(offset)
    raw = handle.read(MAX_STRING)
    end = raw.find(b"\0")
    if end < 0:
        raise ElfError("unterminated string in the dynamic string table")
    return raw[:end].decode("utf-8", errors="replace")
