"""Copy single files out of published wheels without downloading the whole wheel.

Used to build the test fixtures under ``tests/fixtures/wheels/``: the real
``METADATA`` and the real source files (vLLM's ``registry.py``, ...) of each
release that matters, read with HTTP range requests from PyPI's own files.

    python scripts/fetch_wheel_files.py vllm 0.16.0 \
        vllm-0.16.0.dist-info/METADATA vllm/model_executor/models/registry.py

Not shipped, not used by the tests themselves (they only read the fixtures).
"""

from __future__ import annotations

import io
import json
import sys
import urllib.request
import zipfile
from pathlib import Path

SIMPLE = "https://pypi.org/simple/{name}/"
ACCEPT = "application/vnd.pypi.simple.v1+json"


class HttpRangeFile(io.RawIOBase):
    """A seekable read-only file over HTTP range requests."""

    def __init__(self, url: str) -> None:
        self.url = url
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=60) as response:
            self.size = int(response.headers["Content-Length"])
        self.position = 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = base + offset
        return self.position

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self.size - self.position
        if size == 0 or self.position >= self.size:
            return b""
        end = min(self.position + size, self.size) - 1
        request = urllib.request.Request(self.url, headers={"Range": f"bytes={self.position}-{end}"})
        with urllib.request.urlopen(request, timeout=120) as response:
            data = response.read()
        self.position += len(data)
        return data

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def wheel_url(name: str, version: str, platform_hint: str = "x86_64") -> str:
    request = urllib.request.Request(SIMPLE.format(name=name), headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=60) as response:
        index = json.load(response)
    candidates = [
        entry["url"]
        for entry in index["files"]
        if entry["filename"].endswith(".whl")
        and f"-{version}-" in entry["filename"]
        and (platform_hint in entry["filename"] or "none-any" in entry["filename"])
    ]
    if not candidates:
        raise SystemExit(f"no wheel for {name} {version}")
    return candidates[0]


def main(argv: list[str]) -> int:
    name, version, *members = argv
    out = Path("tests/fixtures/wheels") / f"{name}-{version}"
    url = wheel_url(name, version)
    with zipfile.ZipFile(io.BufferedReader(HttpRangeFile(url), buffer_size=1 << 20)) as wheel:
        names = wheel.namelist()
        if members == ["--list"]:
            print("\n".join(names))
            return 0
        for member in members:
            target = out / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(wheel.read(member))
            print(f"{url.rsplit('/', 1)[-1]}: {member} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
