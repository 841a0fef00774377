"""A small pure-Python ELF reader: the ``DT_NEEDED`` entries and dynamic symbols of a shared object.

Enough to tell which CUDA runtime a compiled extension links (``libcudart.so.12`` vs
``.so.13``) without ``readelf`` and without loading the library (loading vLLM's ``_C`` on a
broken CUDA stack can crash). Reads only headers, the section table and the dynamic
section, with seeks, so a 400 MB ``.so`` costs a few kilobytes of I/O. Anything malformed
raises :class:`ElfError` with what was wrong. :func:`undefined_symbols` and :func:`defined_symbols`
read ``.dynsym`` and its string table (``.dynstr``): what a library needs and what it exports, the
two sides the dynamic loader matches ("undefined symbol: ..." at import).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterable
from typing import BinaryIO

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
SHT_DYNSYM = 11
SHN_UNDEF = 0
STB_GLOBAL = 1
STB_WEAK = 2
MAX_SYMBOL_TABLE_BYTES = 256 << 20
NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
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


def undefined_symbols(path: str, prefixes: tuple[bytes, ...] = (b"",)) -> list[str]:
    """Global or weak symbols ``path`` needs from other libraries whose names start with one of ``prefixes``."""
    found = set()
    for name, defined, _ in _symbols(path):
        if not defined and name.startswith(prefixes):
            found.add(name.decode("utf-8", errors="replace"))
    return sorted(found)


def defined_symbols(path: str, wanted: set[str], *, tails: bool = False) -> set[str]:
    """Which of ``wanted`` the ELF file at ``path`` exports (defined, global or weak, in ``.dynsym``).

    Names are matched whole; ``tails=True`` also finds a name a linker stored as the tail of a
    longer one (a full scan of the string table per name: for the few still missing at the end).
    """
    targets = {name.encode() for name in wanted}
    return {name.decode() for name, defined, _ in _symbols(path, targets, tails) if defined}


def _symbols(path: str, only: set[bytes] | None = None, tails: bool = False) -> list[tuple[bytes, bool, int]]:
    """(name, defined, binding) for the global and weak entries of ``.dynsym`` (``only``: just those names)."""
    try:
        with open(path, "rb") as handle:
            return _read_symbols(handle, only, tails)
    except struct.error as exc:
        raise ElfError(f"truncated ELF file ({exc})") from None
    except (ValueError, OverflowError, MemoryError):
        raise ElfError("an offset or size in the ELF headers points outside any file") from None


def _read_symbols(handle: BinaryIO, only: set[bytes] | None, tails: bool) -> list[tuple[bytes, bool, int]]:
    is64, order, sections = _sections(handle)
    table = next((s for s in sections if s[0] == SHT_DYNSYM), None)
    if table is None:
        return []
    _, offset, size, link, entsize = table
    if link >= len(sections):
        raise ElfError("the dynamic symbol table points at a missing string table")
    entsize = entsize or (24 if is64 else 16)
    if size > MAX_SYMBOL_TABLE_BYTES or sections[link][2] > MAX_SYMBOL_TABLE_BYTES:
        raise ElfError("implausibly large dynamic symbol table")
    handle.seek(offset)
    raw = _exact(handle, size)
    handle.seek(sections[link][1])
    strings = _exact(handle, sections[link][2])
    # Only the name offsets that matter: a string table may share one name's tail with another's.
    wanted_offsets: set[int] | None = None
    if only is not None:
        wanted_offsets = set()
        whole = set(strings.split(b"\0"))  # in C: most names are stored whole, and absent ones are found fast
        for name in only:
            if name not in whole and not tails:
                continue
            start = strings.find(name + b"\0")
            while start >= 0:
                wanted_offsets.add(start)
                start = strings.find(name + b"\0", start + 1)
    entry = order + ("IBBHQQ" if is64 else "IIIBBH")
    starts: Iterable[int] = range(0, len(raw) - entsize + 1, entsize)
    if wanted_offsets is not None and entsize % 4 == 0 and order == NATIVE_ORDER:
        # Index the name column in C (a cast memoryview) instead of unpacking every entry in Python:
        # libtorch_cpu.so has well over 100,000 symbols and only a few hundred are asked about.
        count = len(raw) // entsize
        column = memoryview(raw[: count * entsize]).cast("I")[:: entsize // 4]
        where = dict(zip(column, range(count), strict=True))
        starts = sorted(where[offset] * entsize for offset in wanted_offsets if offset in where)
    symbols = []
    for start in starts:
        fields = struct.unpack_from(entry, raw, start)
        if is64:
            name_offset, info, _, shndx = fields[0], fields[1], fields[2], fields[3]
        else:
            name_offset, info, shndx = fields[0], fields[3], fields[5]
        binding = info >> 4
        if binding not in (STB_GLOBAL, STB_WEAK) or name_offset == 0:
            continue
        if wanted_offsets is not None and name_offset not in wanted_offsets:
            continue
        end = strings.find(b"\0", name_offset)
        if end < 0:
            raise ElfError("unterminated string in the dynamic string table")
        symbols.append((strings[name_offset:end], shndx != SHN_UNDEF, binding))
    return symbols


def _sections(handle: BinaryIO) -> tuple[bool, str, list[tuple[int, int, int, int, int]]]:
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
    return is64, order, sections


def _read_needed(handle: BinaryIO) -> list[str]:
    is64, order, sections = _sections(handle)
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
