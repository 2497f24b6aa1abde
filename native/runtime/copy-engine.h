// Copy engine: one thread that executes host->device copy jobs in submission order, staging jobs
// (on the critical path) before background jobs (interval switches). Jobs are split into chunks
// of `chunk_bytes`; before each chunk the token bucket may delay it (bandwidth budget), and a
// background job yields to waiting staging jobs between chunks.
// Per job: optional wait_event is synchronized on the copy thread before the first byte (the
// slot's previous reader finished); start_event/done_event are recorded on SN_STREAM_COPY around
// the copy. A job becomes Issued when all its copies are enqueued (CPU: complete).
#ifndef SELECTN_COPY_ENGINE_H
#define SELECTN_COPY_ENGINE_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "pacing.h"

namespace sn {

struct CopyJob {
  enum class State : uint8_t { Idle, Queued, Running, Issued, Failed };

  // Set by the submitter before submit(); not touched by the engine afterwards.
  void* dst = nullptr;
  const void* src = nullptr;
  uint64_t bytes = 0;
  BackendEvent* wait_event = nullptr;  // may be null
  BackendEvent* start_event = nullptr;  // required
  BackendEvent* done_event = nullptr;   // required
  bool background = false;

  // Engine-owned progress; read by others only under the engine lock (via the engine API).
  State state = State::Idle;
  uint64_t offset = 0;
  std::string error;
};

class CopyEngine {
 public:
  CopyEngine(Backend backend, uint64_t chunk_bytes);
  ~CopyEngine();  // stop()
  CopyEngine(const CopyEngine&) = delete;
  CopyEngine& operator=(const CopyEngine&) = delete;

  void start();
  // Cancels queued jobs (state Failed, "cancelled"), finishes the running chunk, joins.
  void stop();

  // Call only for a job in state Idle, Issued or Failed; the job must outlive its completion.
  void submit(CopyJob* job);
  // Blocks until the job is Issued or Failed, or timeout_s passes (< 0: no limit).
  // Returns the state seen last.
  CopyJob::State wait(CopyJob* job, double timeout_s);
  CopyJob::State state(const CopyJob* job) const;
  std::string error(const CopyJob* job) const;
  // Takes effect before the next chunk; wakes a paced sleep.
  void set_bandwidth(double bytes_per_s, uint64_t burst_bytes);
  double bandwidth() const;
  uint64_t chunk_bytes() const { return chunk_; }

  // Monotonic counters (bytes enqueued to the backend).
  uint64_t staging_bytes_total() const { return staging_bytes_.load(std::memory_order_relaxed); }
  uint64_t background_bytes_total() const {
    return background_bytes_.load(std::memory_order_relaxed);
  }
  // Number of jobs queued or running.
  uint32_t pending() const;

 private:
  void run();
  static double now_s();
  // Runs `job` until done, failed, or preempted (background only). Called without the lock.
  void execute(CopyJob* job);
  void finish(CopyJob* job, CopyJob::State st, std::string err);

  Backend backend_;
  const uint64_t chunk_;
  mutable std::mutex mu_;
  std::condition_variable cv_work_;  // engine waits for jobs or a budget change
  std::condition_variable cv_done_;  // submitters wait for jobs
  std::deque<CopyJob*> staging_;
  std::deque<CopyJob*> background_;
  CopyJob* running_ = nullptr;
  TokenBucket bucket_;  // guarded by mu_
  uint64_t budget_gen_ = 0;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<uint64_t> staging_bytes_{0};
  std::atomic<uint64_t> background_bytes_{0};
};

}  // namespace sn

#endif  // SELECTN_COPY_ENGINE_H
