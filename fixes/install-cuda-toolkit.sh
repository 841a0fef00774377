#!/usr/bin/env bash
# Summary: make a CUDA toolkit new enough for DeepGEMM's JIT (12.9+ for B200/B300, 12.3+ for H100/H200)
#          the one DeepGEMM finds: reuse an installed /usr/local/cuda-X.Y when there is one, else print
#          how to install it for this distribution (a toolkit install is not automated: it needs root
#          and NVIDIA's package repository).
# Needs root: only to install a toolkit; pointing CUDA_HOME at an existing one does not.
# Verifies: cuda.nvcc, cuda.compile-probe
# Inputs: CUDA_MIN   the lowest acceptable release (default: 12.9).
#         DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

CUDA_MIN="${CUDA_MIN:-12.9}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

best=""
for home in /usr/local/cuda-*; do
  if [ ! -x "$home/bin/nvcc" ] || [ ! -x "$home/bin/cuobjdump" ]; then
    continue
  fi
  release=$("$home/bin/nvcc" --version 2>/dev/null | sed -n 's/.*release \([0-9]*\.[0-9]*\).*/\1/p')
  if [ -n "$release" ] && version_ge "$release" "$CUDA_MIN"; then
    best="$home"
  fi
done

if [ -n "$best" ]; then
  echo "found a usable toolkit: $best"
  run test -x "$best/bin/nvcc"
  echo "add to the environment that runs vllm serve (shell profile, systemd unit, container env):"
  say_export CUDA_HOME "$best"
  # shellcheck disable=SC2016 # $PATH is for the reader's shell to expand
  printf '  export PATH=%q:"$PATH"\n' "$best/bin"
  exit 0
fi

echo "no CUDA toolkit >= $CUDA_MIN with nvcc and cuobjdump under /usr/local/cuda-*; install one (needs root):"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  case "${ID:-}" in
    ubuntu|debian)
      echo "  # NVIDIA's repository: https://developer.nvidia.com/cuda-downloads (cuda-keyring package)"
      echo "  sudo apt-get install -y cuda-toolkit-12-9    # or cuda-toolkit-13-0 for a CUDA 13 torch/vLLM"
      ;;
    rhel|rocky|almalinux|centos|fedora)
      echo "  sudo dnf install -y cuda-toolkit-12-9        # after adding NVIDIA's CUDA repository"
      ;;
    *)
      echo "  see https://developer.nvidia.com/cuda-downloads for ${PRETTY_NAME:-this system}"
      ;;
  esac
fi
echo "  or in a container: start from an nvidia/cuda:12.9.1-devel or 13.0.x-devel image (the -runtime images have no nvcc)"
exit 0
