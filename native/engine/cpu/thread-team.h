// A fixed team of threads for the CPU kernels' parallel loops. Members sleep on a condition
// variable between loops and never spin, so between loops the cores stay free for BLAS, the
// runtime's copy thread and other processes (spinning OpenMP teams slowed decode several-fold
// on a shared 2-core machine).
#ifndef SELECTN_ENGINE_CPU_THREAD_TEAM_H
#define SELECTN_ENGINE_CPU_THREAD_TEAM_H

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sn::engine::cpu {

class ThreadTeam {
 public:
  // `threads` including the caller (<= 0: the hardware's thread count).
  explicit ThreadTeam(int threads);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  int size() const { return int(workers_.size()) + 1; }
  // Calls fn(begin, end) on size() contiguous chunks of [0, n), the caller running the first;
  // returns when every chunk is done. Chunk bounds depend only on n and size().
  void parallel_for(int n, const std::function<void(int, int)>& fn);

 private:
  void work(int member);

  std::mutex m_;
  std::condition_variable start_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* fn_ = nullptr;
  int n_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace sn::engine::cpu

#endif  // SELECTN_ENGINE_CPU_THREAD_TEAM_H
