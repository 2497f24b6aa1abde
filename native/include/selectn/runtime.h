/* Select-N offload runtime: public C API.
 *
 * One runtime = one device (CPU "device" arena or one CUDA GPU) with:
 *   - an elastic device pool of `device_budget_bytes` shared by resident layer weights, the staging
 *     ring (S slots), paged KV blocks and engine scratch buffers;
 *   - a pinned host pool holding the "host set" (the planner's N_min offload set);
 *   - a copy engine thread that streams offloaded layers into staging slots in layer order,
 *     paced by a token bucket, overlapped with compute.
 *
 * Typical call order (engine thread):
 *   sn_runtime_config_default(&cfg); cfg.device_budget_bytes = ...; sn_runtime_create(&cfg, &rt);
 *   sn_layers_declare(rt, L, bytes);            // sizes of the L decoder layers' weight blobs
 *   sn_host_set(rt, nmin_set, k);               // layers that may ever be offloaded
 *   sn_offload_set(rt, set, n, N);              // initial offload set (subset of the host set)
 *   for each layer: sn_layer_load(rt, i, data, bytes[i]);
 *   loop: sn_iteration_begin(rt);
 *         for i in 0..L-1: sn_layer_acquire(rt, i, &w); compute(w); sn_layer_release(rt, i);
 *         sn_iteration_end(rt, &telemetry);
 *
 * Errors: every call returns sn_status; on failure sn_last_error() gives a one-line message
 * (thread-local, valid until the next failing call on this thread). Nothing aborts on bad input
 * or out-of-memory. Calls on one runtime must be serialized by the caller, except
 * sn_bandwidth_set, sn_pool_stats and sn_switch_state, which may come from any thread.
 *
 * Units: bytes, microseconds (us), bytes per second. Layer indices are 0..L-1 in forward order.
 */
#ifndef SELECTN_RUNTIME_H
#define SELECTN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_status {
  SN_OK = 0,
  SN_ERR_INVALID_ARGUMENT = 1,   /* bad index, size mismatch, set not a subset, ...           */
  SN_ERR_OUT_OF_HOST_MEMORY = 2, /* host pool limit reached or the OS refused the mapping      */
  SN_ERR_HOST_LOCK = 3,          /* pinning refused (mlock / RLIMIT_MEMLOCK / cudaHostAlloc)   */
  SN_ERR_NO_DEVICE_ROOM = 4,     /* device pool budget exhausted: "no room", policy decides    */
  SN_ERR_STATE = 5,              /* call not valid now (e.g. acquire outside an iteration)     */
  SN_ERR_BACKEND = 6,            /* backend failure (CUDA error text in the message)           */
  SN_ERR_UNSUPPORTED = 7,        /* backend not compiled in, or no GPU present                 */
  SN_ERR_TIMEOUT = 8             /* a bounded wait ran out                                     */
} sn_status;

/* "SN_ERR_NO_DEVICE_ROOM" etc.; never NULL. */
const char* sn_status_name(sn_status status);
/* Message of the last failing call on this thread ("" if none). */
const char* sn_last_error(void);

typedef enum sn_backend_kind { SN_BACKEND_CPU = 0, SN_BACKEND_CUDA = 1 } sn_backend_kind;

/* 1 if the backend is compiled into this library (CUDA may still have no GPU at run time). */
int sn_backend_compiled(sn_backend_kind kind);

typedef struct sn_runtime sn_runtime;

typedef struct sn_runtime_config {
  sn_backend_kind backend;
  int32_t device_index;           /* CUDA device ordinal; ignored by the CPU backend            */
  uint64_t device_budget_bytes;   /* elastic device pool capacity (> 0)                         */
  uint64_t host_pool_limit_bytes; /* cap on pinned host bytes; 0 = only the OS limits it        */
  uint32_t staging_slots;         /* S, ring size for streamed layers (>= 1); default 2         */
  uint64_t copy_chunk_bytes;      /* pacing / preemption granularity; 0 = 4 MiB                 */
  double bandwidth_bytes_per_s;   /* copy budget (token bucket rate); 0 = unlimited             */
  uint64_t bandwidth_burst_bytes; /* token bucket depth; 0 = one chunk                          */
  uint32_t lock_host_memory;      /* CPU backend: mlock the host pool (CUDA pins always)        */
  uint32_t telemetry_window;      /* iterations kept for the bandwidth p10; 0 = 64              */
  double bandwidth_ewma_alpha;    /* weight of the newest sample in the EWMA; 0 = 0.2           */
} sn_runtime_config;

void sn_runtime_config_default(sn_runtime_config* cfg);
sn_status sn_runtime_create(const sn_runtime_config* cfg, sn_runtime** out);
/* Waits for the copy engine to drain, frees every pool. NULL is a no-op. */
void sn_runtime_destroy(sn_runtime* rt);

typedef struct sn_runtime_info {
  sn_backend_kind backend;
  char backend_name[16]; /* "cpu" | "cuda"                                  */
  char device_name[128]; /* GPU name, or "cpu-arena"                        */
  uint64_t device_capacity_bytes; /* the arena reserved at create (max budget) */
} sn_runtime_info;
sn_status sn_runtime_info_get(sn_runtime* rt, sn_runtime_info* out);

/* ---- Layers and placement ------------------------------------------------------------------ */

/* Declares the L decoder layers; layer i's weights are one contiguous blob of bytes[i] bytes.
 * Call once, before anything below. */
sn_status sn_layers_declare(sn_runtime* rt, uint32_t n_layers, const uint64_t* bytes);

/* Host set: the layers that may ever be offloaded (the planner's N_min set). The host pool holds
 * exactly these layers' copies. May change later (planner range changed): added layers are
 * copied device->host from their resident copy (or filled by a later sn_layer_load), removed
 * layers' host copies are freed and their memory returned to the OS. The new host set must
 * contain the current and the requested offload set. Only between iterations. */
sn_status sn_host_set(sn_runtime* rt, const uint32_t* layers, uint32_t n);

/* Changes the host pool cap (0 = uncapped). Fails with SN_ERR_OUT_OF_HOST_MEMORY if the host
 * set already uses more than `bytes`. */
sn_status sn_host_pool_set_limit(sn_runtime* rt, uint64_t bytes);

/* Copies layer i's weights (size == bytes[i]) into its host copy (if in the host set) and into
 * device memory (if resident under the current offload set). Every layer must be loaded before
 * the first iteration. Only between iterations. SN_ERR_NO_DEVICE_ROOM if a resident copy does
 * not fit. */
sn_status sn_layer_load(sn_runtime* rt, uint32_t layer, const void* data, uint64_t size);

/* Requests the offload set for interval label `interval` (N; 0 means "nothing offloaded").
 * `layers` must be a subset of the host set (any order, no duplicates). The switch happens
 * between iterations: layers that become offloaded release their device copies at once (at the
 * end of the running iteration if one runs); layers that become resident are copied in the
 * background at low priority and the whole set switches only when all of them are complete
 * (never computes on half-copied weights, never stalls the running iteration). If device memory
 * is short for a layer that must become resident, the switch waits (see sn_switch_state). */
sn_status sn_offload_set(sn_runtime* rt, const uint32_t* layers, uint32_t n, uint32_t interval);

typedef struct sn_switch_state {
  uint32_t active_interval;   /* label of the set the next iteration uses                    */
  uint32_t target_interval;   /* label last requested                                        */
  uint32_t pending;           /* 1 while the active set differs from the target              */
  uint32_t layers_copying;    /* background copies queued or in flight                       */
  uint32_t layers_blocked;    /* layers waiting for device room                              */
  uint32_t active_offloaded;  /* layers streamed by the next iteration                       */
  uint64_t bytes_remaining;   /* background bytes not yet copied                             */
} sn_switch_state;
sn_status sn_switch_state_get(sn_runtime* rt, sn_switch_state* out);

/* Applies a completed switch now (between iterations; iteration_begin also does this) and
 * retries allocations for blocked layers. `*switched` = 1 if the active set changed. */
sn_status sn_switch_poll(sn_runtime* rt, int* switched);
/* Waits up to timeout_ms for background copies, then polls. SN_ERR_TIMEOUT if still pending;
 * SN_ERR_NO_DEVICE_ROOM at once if the remaining layers are blocked on room. */
sn_status sn_switch_wait(sn_runtime* rt, uint32_t timeout_ms);

/* Number of staging slots S (>= 1). Between iterations only. */
sn_status sn_staging_set_slots(sn_runtime* rt, uint32_t slots);

/* ---- Iterations ----------------------------------------------------------------------------- */

/* Starts an iteration: applies a completed switch, then prefetches offloaded layers in layer
 * order into the free staging slots. */
sn_status sn_iteration_begin(sn_runtime* rt);

/* Device pointer to layer i's weights, complete and ready to read. For a streamed layer this
 * waits for its copy (time counted as stall; on CUDA the compute stream waits on the copy
 * event instead of the host). Acquire streamed layers in layer order; each layer at most once
 * per iteration. */
sn_status sn_layer_acquire(sn_runtime* rt, uint32_t layer, void** device_ptr);

/* Declares the compute that reads layer i done (CPU: returned; CUDA: enqueued on the compute
 * stream). Its staging slot may then be refilled with the next streamed layer. */
sn_status sn_layer_release(sn_runtime* rt, uint32_t layer);

typedef struct sn_iteration_telemetry {
  uint64_t iteration;              /* sequence number, from 1                             */
  uint32_t interval;               /* N label of the set used                             */
  uint32_t offloaded_layers;       /* layers streamed this iteration                      */
  uint32_t staging_slots;
  uint32_t switch_pending;
  double wall_us;                  /* begin -> end on the host                            */
  double stall_us;                 /* compute waiting for weights, summed                 */
  double compute_us;               /* sum of per-layer compute times                      */
  uint64_t bytes_copied;           /* staging bytes this iteration                        */
  uint64_t background_bytes_copied;/* switch bytes completed this iteration               */
  double copy_busy_us;             /* copy engine busy (incl. pacing) this iteration      */
  double bandwidth_bytes_per_s;    /* bytes_copied / copy_busy, this iteration (0 if none)*/
  double bandwidth_ewma;           /* EWMA over iterations with copies                    */
  double bandwidth_p10;            /* 10th percentile over the telemetry window           */
  double bandwidth_budget;         /* current token bucket rate (0 = unlimited)           */
  uint64_t device_budget_bytes;
  uint64_t device_used_bytes;
  uint64_t device_weights_bytes;
  uint64_t device_staging_bytes;
  uint64_t device_kv_bytes;
  uint64_t device_scratch_bytes;
  uint64_t host_used_bytes;
  uint32_t n_layers;
  /* Per-layer arrays of n_layers entries, owned by the runtime, valid until the next
   * sn_iteration_end. Layers not acquired this iteration read 0. */
  const double* layer_compute_us;
  const double* layer_stall_us;
} sn_iteration_telemetry;

/* Ends the iteration (CUDA: synchronizes the compute stream), fills telemetry (may be NULL),
 * and applies a pending release of device copies. Every acquired layer must be released. */
sn_status sn_iteration_end(sn_runtime* rt, sn_iteration_telemetry* out);

/* ---- Elastic device pool -------------------------------------------------------------------- */

typedef struct sn_pool_stats {
  uint64_t budget_bytes;
  uint64_t used_bytes;
  uint64_t free_bytes;            /* budget - used                                          */
  uint64_t largest_free_bytes;    /* largest contiguous free extent                          */
  uint64_t weights_bytes;         /* resident layer copies (incl. in-flight switch copies)   */
  uint64_t staging_bytes;
  uint64_t kv_bytes;
  uint64_t scratch_bytes;
  uint64_t kv_block_bytes;        /* 0 until sn_kv_configure                                */
  uint32_t kv_blocks_used;
  uint32_t staging_slots;
  uint64_t host_limit_bytes;
  uint64_t host_used_bytes;
} sn_pool_stats;
sn_status sn_pool_stats_get(sn_runtime* rt, sn_pool_stats* out);

/* Bytes that KV blocks could use if `layers` (n entries) were the offload set: budget minus
 * resident weights for that set, staging (if the set is non-empty), scratch and KV in use. */
sn_status sn_pool_kv_free_for(sn_runtime* rt, const uint32_t* layers, uint32_t n,
                              uint64_t* bytes);

/* Changes the pool budget; must be <= the capacity reserved at create and >= bytes in use. */
sn_status sn_device_budget_set(sn_runtime* rt, uint64_t bytes);

/* KV blocks: fixed size, set once before the first allocation. */
sn_status sn_kv_configure(sn_runtime* rt, uint64_t block_bytes);
/* All or nothing: `count` block ids into out_ids, or SN_ERR_NO_DEVICE_ROOM with nothing taken. */
sn_status sn_kv_alloc(sn_runtime* rt, uint32_t count, uint32_t* out_ids);
sn_status sn_kv_free(sn_runtime* rt, const uint32_t* ids, uint32_t count);
sn_status sn_kv_block_ptr(sn_runtime* rt, uint32_t id, void** device_ptr);

/* Engine scratch (activations, logits, ...) from the same pool. */
sn_status sn_device_alloc(sn_runtime* rt, uint64_t bytes, void** device_ptr);
sn_status sn_device_free(sn_runtime* rt, void* device_ptr);

/* Synchronous helpers for the engine (CPU: memcpy; CUDA: on the compute stream, then sync). */
sn_status sn_device_upload(sn_runtime* rt, void* device_dst, const void* host_src, uint64_t bytes);
sn_status sn_device_download(sn_runtime* rt, void* host_dst, const void* device_src,
                             uint64_t bytes);
/* cudaStream_t of the compute stream (CUDA) or NULL (CPU): engine kernels launch on it. */
void* sn_compute_stream(sn_runtime* rt);
sn_status sn_synchronize(sn_runtime* rt);

/* ---- Bandwidth budget ----------------------------------------------------------------------- */

/* Token bucket: rate in bytes/s (0 = unlimited), depth in bytes (0 = one chunk). Any thread,
 * any time; takes effect at the next chunk. */
sn_status sn_bandwidth_set(sn_runtime* rt, double bytes_per_s, uint64_t burst_bytes);

#ifdef __cplusplus
}
#endif

#endif /* SELECTN_RUNTIME_H */
