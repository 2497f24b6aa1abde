/* Select-N model engine: public C API (Llama-family and OPT on the offload runtime).
 *
 *   sn_runtime* rt; ...create and configure the runtime (selectn/runtime.h)...
 *   sn_model_options o; sn_model_options_default(&o);   // placement, block size, threads
 *   sn_model* m; sn_model_load("/models/tiny-llama", rt, &o, &m);
 *   sn_model_info info; sn_model_info_get(m, &info);     // vocab, kv_block_bytes, ...
 *   uint32_t blocks[4]; sn_kv_alloc(rt, 4, blocks);      // KV blocks come from the runtime pool
 *   sn_seq_step s = {prompt, n_prompt, 0, blocks, 4, 0}; // prefill; decode: 1 token, n_past > 0
 *   float* logits = malloc(sn_model_logit_rows(&s, 1) * info.vocab_size * sizeof(float));
 *   sn_model_step(m, &s, 1, logits, &telemetry);         // one runtime iteration
 *   sn_sample(logits, info.vocab_size, &params, prompt, n_prompt, out, n_out, step, &result);
 *   sn_kv_free(rt, blocks, 4); sn_model_free(m);
 *
 * Errors: sn_status as in runtime.h, message in sn_last_error(); bad input -> SN_ERR_INVALID_ARGUMENT
 * with a message naming the tensor / field / sequence. One thread drives a model at a time.
 */
#ifndef SELECTN_ENGINE_H
#define SELECTN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "selectn/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_model sn_model;

typedef struct sn_model_options {
  int32_t block_size;       /* tokens per KV block; default 16                           */
  int32_t threads;          /* CPU GEMM threads; 0 = OpenBLAS default                    */
  int32_t scratch_tokens;   /* initial activation capacity in tokens (grows); default 256 */
  const uint32_t* host_set; /* layers that may ever be offloaded; NULL = all layers       */
  uint32_t n_host_set;
  const uint32_t* offload_set; /* layers offloaded at load (subset of host_set)           */
  uint32_t n_offload_set;
  uint32_t interval;           /* N label of offload_set (0 = nothing offloaded)          */
  const char* dtype;           /* stored weight dtype: NULL or "auto" (the checkpoint's),  */
                               /* "float32", "float16", "bfloat16"                         */
} sn_model_options;

void sn_model_options_default(sn_model_options* o);
/* Loads a Hugging Face folder (config.json + safetensors, single or sharded) onto `rt`, which must
 * have no layers declared yet and must outlive the model. */
sn_status sn_model_load(const char* dir, sn_runtime* rt, const sn_model_options* o, sn_model** out);
void sn_model_free(sn_model* m);

typedef struct sn_model_info {
  char arch[16];       /* "llama" | "opt"                                   */
  char model_type[32]; /* config.json model_type                            */
  int64_t vocab_size, hidden_size, n_layers, n_heads, n_kv_heads, head_dim, ffn_size, max_positions;
  int32_t block_size;
  uint64_t kv_block_bytes; /* bytes of one KV block (all layers, K and V)  */
  uint64_t layer_bytes;    /* bytes of one decoder layer's weight blob     */
  char dtype[16];          /* stored weight dtype: "float32" | "float16" | "bfloat16" */
  int64_t bos_token_id;    /* -1 if none                                    */
  int32_t n_eos;
  int64_t eos_token_ids[8];
  int64_t sliding_window;  /* positions a query attends to at most; 0 = all */
} sn_model_info;
sn_status sn_model_info_get(const sn_model* m, sn_model_info* out);

/* A block table entry whose block was released: allowed only for a model with a sliding window,
 * for leading blocks that lie wholly before the window of the step's first new token (their last
 * position <= n_past - sliding_window), which no query of this or any later step reads. */
#define SN_KV_BLOCK_RELEASED 0xFFFFFFFFu

/* One sequence's work in a step (see native/engine/batch.h). */
typedef struct sn_seq_step {
  const int32_t* tokens;     /* [n_tokens] new tokens                                   */
  int32_t n_tokens;
  int32_t n_past;            /* tokens already in this sequence's KV cache              */
  const uint32_t* block_ids; /* block table, >= ceil((n_past + n_tokens) / block_size)  */
  int32_t n_blocks;
  int32_t all_logits;        /* 1: a logits row per new token; 0: last token only       */
} sn_seq_step;

int32_t sn_model_logit_rows(const sn_seq_step* seqs, int32_t n);
/* One iteration over a mixed batch (prefills, chunks and decodes together). logits: host buffer of
 * sn_model_logit_rows(seqs, n) * vocab_size floats, rows in sequence order. telemetry may be NULL. */
sn_status sn_model_step(sn_model* m, const sn_seq_step* seqs, int32_t n, float* logits,
                        sn_iteration_telemetry* telemetry);

typedef struct sn_sampling_params {
  float temperature;        /* 0 = greedy                                */
  int32_t top_k;            /* 0 = off                                   */
  float top_p;              /* 1 = off                                   */
  float min_p;              /* 0 = off                                   */
  float repetition_penalty; /* 1 = off                                   */
  float presence_penalty;   /* 0 = off                                   */
  float frequency_penalty;  /* 0 = off                                   */
  uint64_t seed;
  int32_t top_logprobs;     /* 0..20                                     */
} sn_sampling_params;

typedef struct sn_sample_result {
  int32_t token;
  float logprob;            /* raw model log-probability of token        */
  int32_t n_top;
  int32_t top_tokens[20];
  float top_logprobs[20];
} sn_sample_result;

void sn_sampling_params_default(sn_sampling_params* p);
/* Draw number `step` of a sequence: a pure function of (logits, params, history, seed, step). */
sn_status sn_sample(const float* logits, int32_t vocab, const sn_sampling_params* p, const int32_t* prompt,
                    int32_t n_prompt, const int32_t* output, int32_t n_output, uint64_t step,
                    sn_sample_result* out);

#ifdef __cplusplus
}
#endif

#endif /* SELECTN_ENGINE_H */
