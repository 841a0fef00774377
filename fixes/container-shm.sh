#!/usr/bin/env bash
# Summary: print the container settings that give NCCL enough /dev/shm (docker --ipc=host or
#          --shm-size; a memory-backed emptyDir on Kubernetes). A running container cannot be resized.
# Needs root: no (it only prints).
# Verifies: host.shm
# Inputs: SHM_SIZE   the size to suggest (default: 16g).
#         DRY_RUN=1  accepted for symmetry; nothing is ever run.
set -euo pipefail

SHM_SIZE="${SHM_SIZE:-16g}"
[ "${DRY_RUN:-0}" = "1" ] && echo "(dry run: this script only prints)"
current=$(df -h /dev/shm 2>/dev/null | awk 'NR==2 {print $2}')
echo "/dev/shm here: ${current:-not mounted}"
cat <<TEXT
docker:      docker run --gpus all --ipc=host ...            (or: --shm-size=${SHM_SIZE})
kubernetes:  volumes:  - name: dshm
                         emptyDir: {medium: Memory, sizeLimit: ${SHM_SIZE}i}
             volumeMounts: - name: dshm
                             mountPath: /dev/shm
TEXT
