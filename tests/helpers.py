"""Test helpers: real throwaway Python environments and the doctor run as a subprocess.

Nothing here mocks the doctor's own code. A :class:`TargetEnv` is a real venv (made with
``python -m venv --without-pip``) into which tests write real ``*.dist-info`` folders and
real package files, most of them copied from the published wheels (``tests/fixtures/wheels``,
made by ``scripts/fetch_wheel_files.py``). The doctor then judges it through ``--python``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

FIXTURES = Path(__file__).parent / "fixtures"
WHEELS = FIXTURES / "wheels"

# The model class file each registry form points at, with the real line from the wheels.
GLM5_MODULE_FILES = {
    "deepseek_v2": (
        "vllm/model_executor/models/deepseek_v2.py",
        "class GlmMoeDsaForCausalLM(DeepseekV2ForCausalLM):\n    pass\n",
    ),
    "vllm.models.deepseek_v32": (
        "vllm/models/deepseek_v32/__init__.py",
        "from .nvidia.model import DeepseekV32ForCausalLM as GlmMoeDsaForCausalLM\n",
    ),
}


@dataclass
class TargetEnv:
    """A real virtual environment to write installed packages into."""

    root: Path
    python: Path
    site: Path

    def add_dist(
        self,
        name: str,
        version: str,
        *,
        metadata: str | None = None,
        requires: list[str] | None = None,
        requires_python: str | None = None,
        direct_url: dict[str, Any] | None = None,
        files: Mapping[str, str] | None = None,
        location: Path | None = None,
    ) -> Path:
        """Write ``name-version.dist-info`` (METADATA, INSTALLER, RECORD) and package files."""
        where = location or self.site
        dist_info = where / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True, exist_ok=True)
        if metadata is None:
            lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
            if requires_python:
                lines.append(f"Requires-Python: {requires_python}")
            lines += [f"Requires-Dist: {line}" for line in requires or []]
            metadata = "\n".join(lines) + "\n\nA long description that must not be read.\n"
        (dist_info / "METADATA").write_text(metadata)
        (dist_info / "INSTALLER").write_text("pip\n")
        if direct_url is not None:
            (dist_info / "direct_url.json").write_text(json.dumps(direct_url))
        written = []
        for relative, content in (files or {}).items():
            target = where / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            written.append(relative)
        (dist_info / "RECORD").write_text("".join(f"{path},,\n" for path in written))
        return dist_info

    def add_vllm_release(self, release: str, *, version: str | None = None, with_model_file: bool = True) -> Path:
        """vLLM as the wheel of ``release`` installs it: its real METADATA and registry.py."""
        source = WHEELS / f"vllm-{release}"
        metadata = (source / f"vllm-{release}.dist-info" / "METADATA").read_text()
        if version is not None:
            metadata = metadata.replace(f"\nVersion: {release}\n", f"\nVersion: {version}\n", 1)
        registry = (source / "vllm/model_executor/models/registry.py").read_text()
        files = {"vllm/__init__.py": "", "vllm/model_executor/models/registry.py": registry}
        for module, (path, content) in GLM5_MODULE_FILES.items():
            if with_model_file and f'("{module}", "GlmMoeDsaForCausalLM")' in registry:
                files[path] = content
        return self.add_dist("vllm", version or release, metadata=metadata, files=files)

    def add_transformers_release(self, release: str, *, version: str | None = None, **kwargs: Any) -> Path:
        """transformers with its real METADATA; 5.2.0 and later also get the real glm_moe_dsa files."""
        metadata_release = release if (WHEELS / f"transformers-{release}").exists() else "5.2.0"
        source = WHEELS / f"transformers-{metadata_release}"
        metadata = (source / f"transformers-{metadata_release}.dist-info" / "METADATA").read_text()
        shown = version or release
        metadata = metadata.replace(f"\nVersion: {metadata_release}\n", f"\nVersion: {shown}\n", 1)
        files = {"transformers/__init__.py": ""}
        if Version(release) >= Version("5.2.0"):
            for path in (source / "transformers/models/glm_moe_dsa").iterdir():
                files[f"transformers/models/glm_moe_dsa/{path.name}"] = path.read_text()
        return self.add_dist("transformers", shown, metadata=metadata, files=files, **kwargs)

    def satisfy(self, dist_info: Path, skip: tuple[str, ...] = ("transformers",)) -> list[str]:
        """Install a stand-in at an accepted version for every requirement of ``dist_info`` that applies."""
        metadata = (dist_info / "METADATA").read_text().split("\n\n", 1)[0]
        installed = []
        for line in metadata.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if requirement.name in skip or any(
                p.name.startswith(_folder(requirement.name) + "-") for p in self.site.iterdir()
            ):
                continue
            self.add_dist(requirement.name, accepted_version(requirement.specifier))
            installed.append(requirement.name)
        return installed


def _folder(name: str) -> str:
    return name.replace("-", "_")


def accepted_version(specifier: SpecifierSet) -> str:
    """Some version inside ``specifier`` (the versions it names, nudged up or down)."""
    candidates = ["1.0.0"]
    for item in specifier:
        base = item.version.replace(".*", ".0")
        release = Version(base).release
        bumped = ".".join(str(n) for n in (*release[:-1], release[-1] + 1))
        lowered = ".".join(str(n) for n in (*release[:-1], max(release[-1] - 1, 0)))
        candidates += [base, bumped, bumped + ".1", "0.0.1", lowered]
    for candidate in candidates:
        if specifier.contains(candidate, prereleases=True):
            return candidate
    raise AssertionError(f"no candidate satisfies {specifier}")


def make_env(root: Path, python: str = sys.executable) -> TargetEnv:
    subprocess.run([python, "-m", "venv", "--without-pip", str(root)], check=True, capture_output=True)
    env_python = root / "bin" / "python"
    found = subprocess.run(
        [str(env_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return TargetEnv(root=root, python=env_python, site=Path(found.stdout.strip()))


def run_doctor(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed doctor as a user would, in a subprocess."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "glm5_doctor", *args],
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_json(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    completed = run_doctor("run", "--format", "json", *args, env=env)
    assert completed.stdout, f"no report; stderr: {completed.stderr}"
    return completed.returncode, json.loads(completed.stdout)


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["id"]: result for result in report["results"]}


def pyenv_python(version: str) -> str | None:
    """Another CPython on this machine (pyenv or system), or None."""
    for candidate in (
        Path.home() / ".pyenv" / "versions",
        Path("/root/.pyenv/versions"),
    ):
        for found in sorted(candidate.glob(f"{version}*/bin/python{version}")) if candidate.exists() else []:
            return str(found)
    return shutil.which(f"python{version}")


# --- CUDA toolchain fixtures ---------------------------------------------------------------------

NVCC_OUTPUTS = FIXTURES / "nvcc"
CUTLASS_INCLUDE = FIXTURES / "cutlass-4.2.0" / "include"
REAL_TORCH_VERSION_PY = """\
from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'rocm', 'xpu']
__version__ = '{version}'
debug = False
cuda: Optional[str] = {cuda}
git_version = '70d99e998b4955e0049d13a98d77ae1b14db1f45'
hip: Optional[str] = {hip}
rocm: Optional[str] = None
xpu: Optional[str] = None
"""  # the layout of torch 2.11.0+cu130's version.py, captured on the H200 device


def make_toolkit(root: Path, release: str | None, *, cuobjdump: bool = True, script: str | None = None) -> Path:
    """A CUDA home whose bin/nvcc prints the real ``--version`` text of ``release`` (or runs ``script``)."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    nvcc = bin_dir / "nvcc"
    if script is None:
        script = f"#!/bin/sh\ncat '{NVCC_OUTPUTS / f'{release}.txt'}'\n"
    nvcc.write_text(script)
    nvcc.chmod(0o755)
    if cuobjdump:
        (bin_dir / "cuobjdump").write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / "cuobjdump").chmod(0o755)
    return root


def doctor_env(**overrides: str | None) -> dict[str, str]:
    """The doctor's environment with CUDA lookups controlled: no CUDA_HOME/CUDA_PATH unless given."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "CUDA_HOME", "CUDA_PATH", "DG_JIT_NVCC_COMPILER", "DG_JIT_CACHE_DIR")
    }
    env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def add_torch(env: TargetEnv, version: str, cuda: str | None, hip: str | None = None) -> None:
    quoted = lambda value: repr(value) if value is not None else "None"  # noqa: E731
    env.add_dist(
        "torch",
        version,
        files={
            "torch/__init__.py": "",
            "torch/version.py": REAL_TORCH_VERSION_PY.format(version=version, cuda=quoted(cuda), hip=quoted(hip)),
        },
    )


def ext_suffix(python: Path) -> str:
    found = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip()


def add_deep_gemm(
    root: Path,
    *,
    init: str | None,
    extensions: list[str],
    headers: bool = True,
    own_headers: bool = True,
) -> Path:
    """A DeepGEMM package folder at ``root`` (…/deep_gemm): __init__.py, compiled extension names, include tree."""
    root.mkdir(parents=True, exist_ok=True)
    if init is not None:
        (root / "__init__.py").write_text(init)
    for name in extensions:
        (root / name).write_bytes(b"\x7fELF not loaded by the doctor")
    include = root / "include"
    include.mkdir(exist_ok=True)
    if headers:
        shutil.copytree(CUTLASS_INCLUDE / "cute", include / "cute", dirs_exist_ok=True)
        shutil.copytree(CUTLASS_INCLUDE / "cutlass", include / "cutlass", dirs_exist_ok=True)
    if own_headers:
        (include / "deep_gemm" / "impls").mkdir(parents=True, exist_ok=True)
        (include / "deep_gemm" / "impls" / "sm90_fp8_mqa_logits.cuh").write_text("#pragma once\n")
    return root


def build_shared_object(workdir: Path, name: str, needed_soname: str) -> Path:
    """A real ELF shared object, built by gcc, whose DT_NEEDED names ``needed_soname``."""
    workdir.mkdir(parents=True, exist_ok=True)
    stub = workdir / "stub.c"
    stub.write_text("int cudart_stub(void) { return 0; }\n")
    subprocess.run(
        ["gcc", "-shared", "-fPIC", f"-Wl,-soname,{needed_soname}", "-o", str(workdir / needed_soname), str(stub)],
        check=True,
        capture_output=True,
    )
    ext = workdir / "ext.c"
    ext.write_text("int cudart_stub(void);\nint vllm_op(void) { return cudart_stub(); }\n")
    target = workdir / name
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(target), str(ext), f"-L{workdir}", f"-l:{needed_soname}"],
        check=True,
        capture_output=True,
    )
    return target


# --- fake NVML -----------------------------------------------------------------------------------

FAKE_NVML_SOURCE = Path(__file__).parent / "fake_nvml" / "fake_nvml.c"
NVML_SCENARIOS = FIXTURES / "nvml" / "scenarios.json"
REAL_H200 = FIXTURES / "real" / "h200-gvisor" / "nvml-answers.json"
REAL_H200X2 = FIXTURES / "real" / "h200x2-gvisor" / "nvml-answers.json"


def build_fake_nvml(directory: Path) -> Path:
    """Compile tests/fake_nvml/fake_nvml.c into ``directory/libnvidia-ml.so.1`` with gcc."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "libnvidia-ml.so.1"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O1", "-Wno-format-truncation", "-o", str(target), str(FAKE_NVML_SOURCE)],
        check=True,
        capture_output=True,
    )
    return directory


def scenario_lines(name: str, **overrides: Any) -> dict[str, Any]:
    """A scenario from scenarios.json with its ``base`` chain resolved, plus overrides."""
    table = json.loads(NVML_SCENARIOS.read_text())
    chain = []
    current: str | None = name
    while current:
        chain.append(table[current])
        current = table[current].get("base")
    merged: dict[str, Any] = {}
    for layer in reversed(chain):
        merged.update({k: v for k, v in layer.items() if k != "base"})
    merged.update(overrides)
    return merged


def real_scenario(capture: Path = REAL_H200, p2p: int | None = None) -> dict[str, Any]:
    """A fake-NVML scenario made of what a real driver answered, call by call (scripts/capture_nvml.py).

    ``p2p``: the P2P status every pair reports (the captures made before the integer-index fix hold
    only the tuple-constant ArgumentError, so the real status comes from the doctor's own real run).
    """
    captured = json.loads(capture.read_text())
    system = {a["call"]: a.get("value") for a in captured["system"]}
    scenario: dict[str, Any] = {
        "count": system["device_count"],
        "driver": system["driver_version"],
        "cuda_driver": system["cuda_driver_version_v2"],
    }
    if p2p is not None:
        scenario.update({"p2p": p2p, "p2p_nvlink": p2p})
    for device in captured["devices"]:
        answers = {a["call"]: a for a in device["answers"]}
        memory = answers["memory_v2"]["value"]
        cc = answers["cuda_compute_capability"]["value"]
        fabric = answers["fabric_info_v"]["value"]
        links = [a.get("value") for name, a in answers.items() if name.startswith("nvlink_state[")]
        prefix = f"gpu.{device['index']}."
        scenario.update(
            {
                prefix + "name": answers["name"]["value"],
                prefix + "uuid": answers["uuid"]["value"],
                prefix + "bus": answers["pci_bus_id"]["value"],
                prefix + "total": memory["total"],
                prefix + "reserved": memory["reserved"],
                prefix + "free": memory["free"],
                prefix + "cc": f"{cc[0]}.{cc[1]}",
                prefix + "persistence": answers["persistence_mode"]["value"],
                prefix + "mig": answers["mig_mode"]["value"][0],
                prefix + "ecc": answers["ecc_mode"]["value"][0],
                prefix + "ecc_uncorrected": answers["ecc_volatile_uncorrected"]["value"],
                prefix + "remapped": ",".join(str(v) for v in answers["remapped_rows"]["value"]),
                prefix + "clocks": answers["clocks_event_reasons"]["value"],
                prefix + "fabric": f"{fabric['state']},{fabric['status']}",
                prefix + "nvlinks": sum(1 for state in links if state == 1),
            }
        )
        v3 = answers.get("fabric_info_v3")  # captures from before issue 13 lack it
        if v3 is not None and "value" in v3:
            scenario[prefix + "fabric_health"] = v3["value"]["healthSummary"]
            scenario[prefix + "clique"] = v3["value"]["cliqueId"]
            scenario[prefix + "cluster"] = int(any(v3["value"]["clusterUuid"]))
        elif v3 is not None and v3.get("error") == "NVMLError_ArgumentVersionMismatch":
            scenario[prefix + "fabric_v3"] = 0
    return scenario


def real_h200_scenario() -> dict[str, Any]:
    """The single H200 the device machine really answered with."""
    return real_scenario(REAL_H200)


def nvml_env(library_dir: Path, scenario: dict[str, Any], workdir: Path, **extra: str | None) -> dict[str, str]:
    """The doctor's environment with the fake NVML first on the loader path, playing ``scenario``."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "scenario.txt"
    path.write_text("".join(f"{key}={value}\n" for key, value in scenario.items() if not key.startswith("_")))
    env = doctor_env(**extra)
    env["LD_LIBRARY_PATH"] = f"{library_dir}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
    env["FAKE_NVML_SCENARIO"] = str(path)
    return env


# --- model files -----------------------------------------------------------------------------------

GLM5_CONFIG = {  # the keys GLM-5's config.json has (nvml-blackwell-memory.md C.1; sglang#18980)
    "architectures": ["GlmMoeDsaForCausalLM"],
    "model_type": "glm_moe_dsa",
    "hidden_size": 6144,
    "num_hidden_layers": 78,
    "num_attention_heads": 64,
    "num_key_value_heads": 64,
    "kv_lora_rank": 512,
    "qk_rope_head_dim": 64,
    "qk_nope_head_dim": 192,
    "index_topk": 2048,
    "index_head_dim": 128,
    "max_position_embeddings": 202752,
    "num_nextn_predict_layers": 1,
    "quantization_config": {
        "quant_method": "fp8",
        "fmt": "e4m3",
        "activation_scheme": "dynamic",
        "weight_block_size": [128, 128],
    },
}


def write_safetensors(path: Path, tensors: dict[str, int]) -> int:
    """A real safetensors file: 8-byte header length, JSON header, then the (sparse, zero) tensor bytes."""
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, size in tensors.items():
        header[name] = {"dtype": "F8_E4M3", "shape": [size], "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(len(raw).to_bytes(8, "little"))
        handle.write(raw)
        handle.truncate(8 + len(raw) + offset)  # sparse: no real disk space used
    return 8 + len(raw) + offset


def write_glm5_model(
    directory: Path,
    *,
    shards: int = 3,
    mtp_layer: bool = True,
    shard_bytes: int = 1 << 30,
    tokenizer_class: str = "TokenizersBackend",
) -> dict[str, str]:
    """A GLM-5-shaped checkpoint: config.json, tokenizer_config.json, index and real safetensors shards."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(GLM5_CONFIG))
    (directory / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": tokenizer_class}))
    weight_map: dict[str, str] = {}
    layers = list(range(78)) + ([78] if mtp_layer else [])
    for index in range(shards):
        name = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        mine = [layer for layer in layers if layer % shards == index]
        tensors = {f"model.layers.{layer}.mlp.weight": shard_bytes // max(len(mine), 1) for layer in mine}
        write_safetensors(directory / name, tensors)
        weight_map.update({tensor: name for tensor in tensors})
    (directory / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": shards * shard_bytes}, "weight_map": weight_map})
    )
    return weight_map


def as_hub_cache(model_dir: Path, cache: Path, repo: str = "zai-org/GLM-5-FP8", revision: str = "a" * 40) -> Path:
    """Move a checkpoint into the Hugging Face cache layout: blobs/<hash>, snapshots/<rev>/<file> links."""
    root = cache / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / revision
    (root / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(revision)
    for number, item in enumerate(sorted(model_dir.iterdir())):
        blob = root / "blobs" / f"{number:064x}"
        shutil.move(str(item), blob)
        (snapshot / item.name).symlink_to(os.path.relpath(blob, snapshot))
    return snapshot
