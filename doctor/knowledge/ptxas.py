"""Which ptxas release first assembles each GPU architecture (its ``--gpu-name=sm_XYa``).

From the PTX ISA release notes (https://docs.nvidia.com/cuda/parallel-thread-execution/#release-notes):
PTX ISA 7.8 / CUDA 11.8 added sm_90; 8.7 / CUDA 12.8 sm_100a, sm_101a, sm_120a; 8.8 / CUDA 12.9
sm_103a and sm_121a; 9.0 / CUDA 13.0 renamed sm_101 to sm_110. Triton names the target
``sm_<major><minor>a`` for 9.0 and above, so an older assembler stops with
"ptxas fatal : Value 'sm_103a' is not defined for option 'gpu-name'".
"""

from __future__ import annotations

#: compute capability -> the first CUDA (ptxas) release that knows it
PTXAS_FLOOR: dict[tuple[int, int], tuple[int, int]] = {
    (9, 0): (11, 8),
    (10, 0): (12, 8),
    (10, 1): (12, 8),
    (10, 3): (12, 9),
    (11, 0): (13, 0),
    (12, 0): (12, 8),
    (12, 1): (12, 9),
}

#: Triton 3.6+ hands every GPU of compute capability 10.0 and above to ptxas-blackwell
#: (third_party/nvidia/backend/compiler.py get_ptxas).
BLACKWELL_ASSEMBLER_FROM = (10, 0)


def ptxas_floor(capability: tuple[int, int]) -> tuple[int, int] | None:
    return PTXAS_FLOOR.get(capability)
