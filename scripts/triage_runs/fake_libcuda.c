/* A stand-in libcuda.so.1 so vLLM's extensions load on a machine without a driver: every entry
   point answers CUDA_ERROR_NO_DEVICE (100), or FAKE_CUDA_INIT_ERROR for cuInit. */
#include <stdlib.h>
static int err(void){ const char* e = getenv("FAKE_CUDA_INIT_ERROR"); return e ? atoi(e) : 100; }
#define STUB(name) int name(void){ return 100; }
int cuInit(unsigned f){ (void)f; return err(); }
int cuDriverGetVersion(int* v){ const char* e = getenv("FAKE_CUDA_DRIVER_VERSION"); *v = e ? atoi(e) : 13000; return 0; }
int cuGetErrorString(int e, const char** s){ (void)e; *s = "fake"; return 0; }
int cuGetErrorName(int e, const char** s){ (void)e; *s = "fake"; return 0; }
STUB(cuPointerGetAttribute) STUB(cuTensorMapEncodeTiled) STUB(cuCtxGetCurrent) STUB(cuCtxSetCurrent)
STUB(cuDeviceGetAttribute) STUB(cuDevicePrimaryCtxRetain) STUB(cuMemAddressFree) STUB(cuMemAddressReserve)
STUB(cuMemCreate) STUB(cuMemGetAllocationGranularity) STUB(cuMemMap) STUB(cuMemRelease) STUB(cuMemSetAccess)
STUB(cuMemUnmap) STUB(cuDeviceGet) STUB(cuDeviceGetCount) STUB(cuGetProcAddress) STUB(cuGetProcAddress_v2)
STUB(cuModuleLoadData) STUB(cuModuleGetFunction) STUB(cuLaunchKernel) STUB(cuLaunchKernelEx) STUB(cuFuncSetAttribute)
STUB(cuModuleUnload) STUB(cuLibraryLoadData) STUB(cuLibraryGetKernel) STUB(cuKernelGetFunction) STUB(cuLibraryUnload)
STUB(cuModuleGetGlobal) STUB(cuMemcpyHtoD) STUB(cuStreamSynchronize) STUB(cuDeviceGetName) STUB(cuDeviceTotalMem)
STUB(cuCtxSynchronize) STUB(cuOccupancyMaxActiveBlocksPerMultiprocessor) STUB(cuFuncGetAttribute)
