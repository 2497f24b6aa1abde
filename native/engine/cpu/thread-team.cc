#include "thread-team.h"

namespace sn::engine::cpu {

namespace {
int chunk_begin(int n, int member, int members) { return int(int64_t(n) * member / members); }
}  // namespace

ThreadTeam::ThreadTeam(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
}

ThreadTeam::~ThreadTeam() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
  }
  start_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadTeam::parallel_for(int n, const std::function<void(int, int)>& fn) {
  const int members = size();
  if (members == 1 || n < members) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_);
    fn_ = &fn;
    n_ = n;
    pending_ = members - 1;
    ++generation_;
  }
  start_.notify_all();
  fn(0, chunk_begin(n, 1, members));
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [this] { return pending_ == 0; });
  fn_ = nullptr;
}

void ThreadTeam::work(int member) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int, int)>* fn;
    int n;
    {
      std::unique_lock<std::mutex> lock(m_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      fn = fn_;
      n = n_;
    }
    const int members = size();
    (*fn)(chunk_begin(n, member, members), chunk_begin(n, member + 1, members));
    std::lock_guard<std::mutex> lock(m_);
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace sn::engine::cpu
