#include "copy-engine.h"

#include <algorithm>
#include <cassert>
#include <chrono>

namespace sn {

CopyEngine::CopyEngine(Backend backend, uint64_t chunk_bytes)
    : backend_(backend), chunk_(chunk_bytes) {
  assert(chunk_ > 0);
  bucket_.configure(0.0, static_cast<double>(chunk_), now_s());
}

CopyEngine::~CopyEngine() { stop(); }

double CopyEngine::now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void CopyEngine::start() {
  std::lock_guard<std::mutex> lock(mu_);
  assert(!thread_.joinable());
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void CopyEngine::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
    for (auto* q : {&staging_, &background_}) {
      for (CopyJob* j : *q) {
        j->state = CopyJob::State::Failed;
        j->error = "copy engine stopped";
      }
      q->clear();
    }
  }
  cv_work_.notify_all();
  cv_done_.notify_all();
  thread_.join();
}

void CopyEngine::submit(CopyJob* job) {
  assert(job->start_event != nullptr && job->done_event != nullptr && job->bytes > 0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    assert(job->state != CopyJob::State::Queued && job->state != CopyJob::State::Running);
    job->state = CopyJob::State::Queued;
    job->offset = 0;
    job->error.clear();
    if (stop_) {
      job->state = CopyJob::State::Failed;
      job->error = "copy engine stopped";
      return;
    }
    (job->background ? background_ : staging_).push_back(job);
  }
  cv_work_.notify_all();
}

CopyJob::State CopyEngine::wait(CopyJob* job, double timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  auto done = [job] {
    return job->state == CopyJob::State::Issued || job->state == CopyJob::State::Failed ||
           job->state == CopyJob::State::Idle;
  };
  if (timeout_s < 0) {
    cv_done_.wait(lock, done);
  } else {
    cv_done_.wait_for(lock, std::chrono::duration<double>(timeout_s), done);
  }
  return job->state;
}

CopyJob::State CopyEngine::state(const CopyJob* job) const {
  std::lock_guard<std::mutex> lock(mu_);
  return job->state;
}

std::string CopyEngine::error(const CopyJob* job) const {
  std::lock_guard<std::mutex> lock(mu_);
  return job->error;
}

void CopyEngine::set_bandwidth(double bytes_per_s, uint64_t burst_bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const double burst = burst_bytes > 0 ? static_cast<double>(burst_bytes)
                                         : static_cast<double>(chunk_);
    bucket_.configure(bytes_per_s, burst, now_s());
    ++budget_gen_;
  }
  cv_work_.notify_all();
}

double CopyEngine::bandwidth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bucket_.rate();
}

uint32_t CopyEngine::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<uint32_t>(staging_.size() + background_.size() + (running_ ? 1 : 0));
}

void CopyEngine::finish(CopyJob* job, CopyJob::State st, std::string err) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job->state = st;
    job->error = std::move(err);
    running_ = nullptr;
  }
  cv_done_.notify_all();
}

void CopyEngine::execute(CopyJob* job) {
  const BackendIface* be = backend_.iface;
  if (job->offset == 0) {
    if (job->wait_event != nullptr) {
      BackendResult r = be->event_sync(backend_.ctx, job->wait_event);
      if (!r.ok()) return finish(job, CopyJob::State::Failed, r.message);
    }
    BackendResult r = be->event_record(backend_.ctx, job->start_event, SN_STREAM_COPY);
    if (!r.ok()) return finish(job, CopyJob::State::Failed, r.message);
  }
  while (job->offset < job->bytes) {
    const uint64_t n = std::min(chunk_, job->bytes - job->offset);
    {
      // Pacing: wait until the bucket is out of debt, then take the chunk's tokens.
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (stop_) {
          lock.unlock();
          return finish(job, CopyJob::State::Failed, "copy engine stopped");
        }
        const double wait_s = bucket_.take(0.0, now_s());
        if (wait_s <= 0.0) break;
        const uint64_t gen = budget_gen_;
        cv_work_.wait_for(lock, std::chrono::duration<double>(wait_s),
                          [&] { return stop_ || budget_gen_ != gen; });
      }
      bucket_.take(static_cast<double>(n), now_s());
    }
    BackendResult r = be->copy_h2d(backend_.ctx, SN_STREAM_COPY,
                                   static_cast<char*>(job->dst) + job->offset,
                                   static_cast<const char*>(job->src) + job->offset, n);
    if (!r.ok()) return finish(job, CopyJob::State::Failed, r.message);
    job->offset += n;
    (job->background ? background_bytes_ : staging_bytes_).fetch_add(n, std::memory_order_relaxed);
    if (job->background && job->offset < job->bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!staging_.empty()) {
        // Yield to the critical path; resume this job later at its offset.
        background_.push_front(job);
        job->state = CopyJob::State::Queued;
        running_ = nullptr;
        return;
      }
    }
  }
  BackendResult r = be->event_record(backend_.ctx, job->done_event, SN_STREAM_COPY);
  if (!r.ok()) return finish(job, CopyJob::State::Failed, r.message);
  finish(job, CopyJob::State::Issued, std::string());
}

void CopyEngine::run() {
  for (;;) {
    CopyJob* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_work_.wait(lock, [this] { return stop_ || !staging_.empty() || !background_.empty(); });
      if (stop_) return;
      std::deque<CopyJob*>& q = !staging_.empty() ? staging_ : background_;
      job = q.front();
      q.pop_front();
      job->state = CopyJob::State::Running;
      running_ = job;
    }
    execute(job);
  }
}

}  // namespace sn
