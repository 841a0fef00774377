// A kernel built only for sm_100a, launched on whatever GPU is present: on a Hopper GPU the CUDA
// runtime has no code to run and says so.
#include <cstdio>
__global__ void touch(int* out) { *out = 1; }
int main() {
    int* out = nullptr;
    cudaError_t err = cudaMalloc(&out, sizeof(int));
    if (err != cudaSuccess) { std::printf("cudaMalloc: %s\n", cudaGetErrorString(err)); return 1; }
    touch<<<1, 1>>>(out);
    err = cudaGetLastError();
    if (err == cudaSuccess) err = cudaDeviceSynchronize();
    if (err != cudaSuccess) {
        std::fprintf(stderr, "nokernel: launch on this GPU failed: %s (%s)\n", cudaGetErrorString(err), cudaGetErrorName(err));
        return 1;
    }
    std::printf("kernel ran\n");
    return 0;
}
