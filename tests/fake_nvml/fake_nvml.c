/*
 * A fake libnvidia-ml.so.1 for the tests: the real nvidia-ml-py (pynvml) loads it through
 * LD_LIBRARY_PATH and calls it exactly as it calls the driver's library. What each GPU answers
 * comes from the scenario file named by FAKE_NVML_SCENARIO (key=value lines, see scenarios/).
 *
 *   gpu.N.KEY=VALUE   one GPU;  gpu.*.KEY=VALUE   every GPU without its own value
 *   err.FUNCTION=CODE            FUNCTION returns NVML error CODE (for every GPU)
 *   gpu.N.err.FUNCTION=CODE      the same for one GPU
 *   hang.FUNCTION=N              FUNCTION never returns for GPU N (-1: for any call)
 *
 * Struct layouts follow nvml.h as nvidia-ml-py 13.615.71 declares them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25

#define MAX_ENTRIES 1024
static char keys[MAX_ENTRIES][96];
static char values[MAX_ENTRIES][256];
static int entries = 0;
static int loaded = 0;

static void load(void) {
    if (loaded) return;
    loaded = 1;
    const char *path = getenv("FAKE_NVML_SCENARIO");
    if (!path) return;
    FILE *file = fopen(path, "r");
    if (!file) return;
    char line[400];
    while (fgets(line, sizeof line, file) && entries < MAX_ENTRIES) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        char *value = eq + 1;
        value[strcspn(value, "\n")] = 0;
        snprintf(keys[entries], sizeof keys[0], "%s", line);
        snprintf(values[entries], sizeof values[0], "%s", value);
        entries++;
    }
    fclose(file);
}

static const char *lookup(const char *key) {
    load();
    for (int i = 0; i < entries; i++)
        if (strcmp(keys[i], key) == 0) return values[i];
    return NULL;
}

static const char *gpu_value(int gpu, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "gpu.%d.%s", gpu, name);
    const char *found = lookup(key);
    if (found) return found;
    snprintf(key, sizeof key, "gpu.*.%s", name);
    return lookup(key);
}

static long long gpu_number(int gpu, const char *name, long long fallback) {
    const char *found = gpu_value(gpu, name);
    return found ? atoll(found) : fallback;
}

static int index_of(nvmlDevice_t device) { return (int)(intptr_t)device - 1; }

/* Error injection and hangs, checked at the top of every function. */
static int enter(const char *function, int gpu) {
    char key[128];
    snprintf(key, sizeof key, "hang.%s", function);
    const char *hang = lookup(key);
    if (hang && (atoi(hang) == -1 || atoi(hang) == gpu)) {
        for (;;) sleep(600);
    }
    if (gpu >= 0) {
        snprintf(key, sizeof key, "gpu.%d.err.%s", gpu, function);
        const char *own = lookup(key);
        if (own) return atoi(own);
    }
    snprintf(key, sizeof key, "err.%s", function);
    const char *all = lookup(key);
    return all ? atoi(all) : NVML_SUCCESS;
}

#define ENTER(gpu) do { int _rc = enter(__func__, (gpu)); if (_rc) return _rc; } while (0)

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; ENTER(-1); return NVML_SUCCESS; }
nvmlReturn_t nvmlInit_v2(void) { ENTER(-1); return NVML_SUCCESS; }
nvmlReturn_t nvmlShutdown(void) { return NVML_SUCCESS; }

const char *nvmlErrorString(nvmlReturn_t result) {
    static char text[64];
    snprintf(text, sizeof text, "fake NVML error %d", result);
    return text;
}

static nvmlReturn_t copy_string(const char *value, char *buffer, unsigned int length) {
    if (!value) return NVML_ERROR_NOT_SUPPORTED;
    if (strlen(value) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
    strcpy(buffer, value);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    ENTER(-1);
    return copy_string(lookup("driver") ? lookup("driver") : "580.95.05", version, length);
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
    ENTER(-1);
    return copy_string("13.580.95.05", version, length);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version) {
    ENTER(-1);
    *version = lookup("cuda_driver") ? atoi(lookup("cuda_driver")) : 13000;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    ENTER(-1);
    *count = lookup("count") ? (unsigned)atoi(lookup("count")) : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    ENTER((int)index);
    unsigned count = lookup("count") ? (unsigned)atoi(lookup("count")) : 0;
    if (index >= count) return NVML_ERROR_INVALID_ARGUMENT;
    *device = (nvmlDevice_t)(intptr_t)(index + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    ENTER(index_of(device));
    return copy_string(gpu_value(index_of(device), "name"), name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    ENTER(index_of(device));
    char fallback[64];
    snprintf(fallback, sizeof fallback, "GPU-00000000-fake-0000-0000-%012d", index_of(device));
    const char *value = gpu_value(index_of(device), "uuid");
    return copy_string(value ? value : fallback, uuid, length);
}

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *info) {
    ENTER(index_of(device));
    memset(info, 0, sizeof *info);
    snprintf(info->busId, sizeof info->busId, "00000000:%02X:00.0", 0x18 + 0x10 * index_of(device));
    const char *bus = gpu_value(index_of(device), "bus");
    if (bus) snprintf(info->busId, sizeof info->busId, "%s", bus);
    return NVML_SUCCESS;
}

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    ENTER(index_of(device));
    int gpu = index_of(device);
    memory->total = gpu_number(gpu, "total", 0);
    memory->free = gpu_number(gpu, "free", 0);
    memory->used = memory->total - memory->free;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    ENTER(index_of(device));
    int gpu = index_of(device);
    memory->total = gpu_number(gpu, "total", 0);
    memory->reserved = gpu_number(gpu, "reserved", 0);
    memory->free = gpu_number(gpu, "free", 0);
    memory->used = memory->total - memory->reserved - memory->free;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    ENTER(index_of(device));
    const char *cc = gpu_value(index_of(device), "cc");
    if (!cc) return NVML_ERROR_NOT_SUPPORTED;
    *major = atoi(cc);
    *minor = strchr(cc, '.') ? atoi(strchr(cc, '.') + 1) : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, unsigned int *mode) {
    ENTER(index_of(device));
    *mode = (unsigned)gpu_number(index_of(device), "persistence", 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending) {
    ENTER(index_of(device));
    *current = (unsigned)gpu_number(index_of(device), "mig", 0);
    *pending = (unsigned)gpu_number(index_of(device), "mig_pending", *current);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending) {
    ENTER(index_of(device));
    *current = *pending = (unsigned)gpu_number(index_of(device), "ecc", 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int errorType, int counterType,
                                         unsigned long long *count) {
    (void)errorType; (void)counterType;
    ENTER(index_of(device));
    *count = (unsigned long long)gpu_number(index_of(device), "ecc_uncorrected", 0);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrected, unsigned int *uncorrected,
                                       unsigned int *pending, unsigned int *failure) {
    ENTER(index_of(device));
    const char *rows = gpu_value(index_of(device), "remapped");
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (rows) sscanf(rows, "%u,%u,%u,%u", &a, &b, &c, &d);
    *corrected = a; *uncorrected = b; *pending = c; *failure = d;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *reasons) {
    ENTER(index_of(device));
    *reasons = (unsigned long long)gpu_number(index_of(device), "clocks", 1);
    return NVML_SUCCESS;
}

typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; }
    nvmlProcessInfo_t;

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos) {
    ENTER(index_of(device));
    const char *procs = gpu_value(index_of(device), "procs");  /* "pid:bytes;pid:bytes" */
    unsigned n = 0;
    nvmlProcessInfo_t parsed[16];
    if (procs && *procs) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", procs);
        for (char *item = strtok(copy, ";"); item && n < 16; item = strtok(NULL, ";")) {
            parsed[n].pid = (unsigned)atoi(item);
            parsed[n].usedGpuMemory = strchr(item, ':') ? strtoull(strchr(item, ':') + 1, NULL, 10) : 0;
            parsed[n].gpuInstanceId = parsed[n].computeInstanceId = 0xFFFFFFFF;
            n++;
        }
    }
    if (n == 0) { *count = 0; return NVML_SUCCESS; }
    if (infos == NULL || *count < n) { *count = n; return NVML_ERROR_INSUFFICIENT_SIZE; }
    memcpy(infos, parsed, n * sizeof parsed[0]);
    *count = n;
    return NVML_SUCCESS;
}

typedef struct {
    unsigned int version;
    unsigned char clusterUuid[16];
    nvmlReturn_t status;
    unsigned int cliqueId;
    unsigned char state;
    unsigned int healthMask;
} nvmlGpuFabricInfo_v2_t;

typedef struct {
    nvmlGpuFabricInfo_v2_t v2;
    unsigned char healthSummary;
} nvmlGpuFabricInfo_v3_t;

#define FABRIC_INFO_V2 0x02000024u
#define FABRIC_INFO_V3 0x03000028u

/* "fabric" = "state,status"; "fabric_health" = v3's healthSummary; "fabric_v3" = 0 plays a driver
 * that only knows v2 (it answers v3 with NVML_ERROR_ARGUMENT_VERSION_MISMATCH, as R550-R560 do);
 * "cluster" = 1 sets a non-zero cluster UUID (a multi-node NVLink domain), "clique" the clique id. */
nvmlReturn_t nvmlDeviceGetGpuFabricInfoV(nvmlDevice_t device, nvmlGpuFabricInfo_v3_t *info) {
    int gpu = index_of(device);
    ENTER(gpu);
    if (!info || info->v2.version == 0) return NVML_ERROR_INVALID_ARGUMENT;
    unsigned version = info->v2.version;
    if (version != FABRIC_INFO_V2 && version != FABRIC_INFO_V3) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (version == FABRIC_INFO_V3 && gpu_number(gpu, "fabric_v3", 1) == 0) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    const char *fabric = gpu_value(gpu, "fabric");  /* "state,status" */
    int state = 0, status = 0;
    if (fabric) sscanf(fabric, "%d,%d", &state, &status);
    memset(info, 0, version == FABRIC_INFO_V3 ? sizeof(nvmlGpuFabricInfo_v3_t) : sizeof(nvmlGpuFabricInfo_v2_t));
    info->v2.version = version;
    info->v2.state = (unsigned char)state;
    info->v2.status = status;
    info->v2.cliqueId = (unsigned)gpu_number(gpu, "clique", 0);
    if (gpu_number(gpu, "cluster", 0)) info->v2.clusterUuid[0] = 0x5a;
    if (version == FABRIC_INFO_V3) info->healthSummary = (unsigned char)gpu_number(gpu, "fabric_health", 0);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, unsigned int *active) {
    ENTER(index_of(device));
    long long links = gpu_number(index_of(device), "nvlinks", 0);
    if (links <= 0) return NVML_ERROR_NOT_SUPPORTED;
    if (link >= 18) return NVML_ERROR_INVALID_ARGUMENT;
    long long down = gpu_number(index_of(device), "nvlinks_down", 0);
    *active = (link < (unsigned)links && link >= (unsigned)down) ? 1 : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t first, nvmlDevice_t second, int index, int *status) {
    ENTER(index_of(first));
    char key[64];
    snprintf(key, sizeof key, "p2p.%d-%d", index_of(first), index_of(second));
    const char *pair = lookup(key);
    const char *all = lookup(index == 2 ? "p2p_nvlink" : "p2p");
    *status = pair ? atoi(pair) : (all ? atoi(all) : 0);
    return NVML_SUCCESS;
}
