// Copy engine and the runtime's threads (also run under ThreadSanitizer): ordering, priority,
// preemption of background copies, pacing, budget changes from another thread, stop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "copy-engine.h"
#include "helpers.h"

namespace sn {

class CopyEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(backend_cpu_create(false, &be_).ok()); }
  void TearDown() override { be_.iface->destroy(be_.ctx); }
  struct OwnedJob {
    CopyJob job;
    std::vector<unsigned char> src, dst;
  };
  std::unique_ptr<OwnedJob> make_job(uint64_t bytes, bool background, unsigned char fill) {
    auto j = std::make_unique<OwnedJob>();
    j->src.assign(bytes, fill);
    j->dst.assign(bytes, 0);
    j->job.src = j->src.data();
    j->job.dst = j->dst.data();
    j->job.bytes = bytes;
    j->job.background = background;
    EXPECT_TRUE(be_.iface->event_create(be_.ctx, &j->job.start_event).ok());
    EXPECT_TRUE(be_.iface->event_create(be_.ctx, &j->job.done_event).ok());
    return j;
  }
  void destroy(OwnedJob& j) {
    be_.iface->event_destroy(be_.ctx, j.job.start_event);
    be_.iface->event_destroy(be_.ctx, j.job.done_event);
  }
  double seconds(const CopyJob& j) {
    return be_.iface->event_elapsed_ms(be_.ctx, j.start_event, j.done_event) / 1e3;
  }
  Backend be_;
};

TEST_F(CopyEngineTest, CopiesBytesAndRecordsEvents) {
  CopyEngine ce(be_, 4096);
  ce.start();
  auto j = make_job(100000, false, 0x5a);
  ce.submit(&j->job);
  EXPECT_EQ(ce.wait(&j->job, -1), CopyJob::State::Issued);
  EXPECT_EQ(j->dst, j->src);
  EXPECT_TRUE(be_.iface->event_done(be_.ctx, j->job.done_event));
  EXPECT_GE(seconds(j->job), 0.0);
  EXPECT_EQ(ce.staging_bytes_total(), 100000u);
  EXPECT_EQ(ce.background_bytes_total(), 0u);
  ce.stop();
  destroy(*j);
}

TEST_F(CopyEngineTest, PacingHoldsTheBudgetAndChangesLive) {
  CopyEngine ce(be_, 16 << 10);
  ce.set_bandwidth(8.0 * (1 << 20), 16 << 10);  // 8 MiB/s
  ce.start();
  auto j = make_job(2 << 20, false, 1);  // 2 MiB: >= ~250 ms at 8 MiB/s
  const auto t0 = std::chrono::steady_clock::now();
  ce.submit(&j->job);
  ASSERT_EQ(ce.wait(&j->job, -1), CopyJob::State::Issued);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The bucket can never run faster than its rate (first chunk is free).
  EXPECT_GE(took, ((2 << 20) - (32 << 10)) / (8.0 * (1 << 20)));
  EXPECT_EQ(ce.bandwidth(), 8.0 * (1 << 20));
  // A budget raise from another thread wakes a paced copy.
  auto k = make_job(4 << 20, false, 2);
  ce.set_bandwidth(1.0 * (1 << 20), 16 << 10);  // 4 s at this rate
  ce.submit(&k->job);
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ce.set_bandwidth(0.0, 0);
  });
  ASSERT_EQ(ce.wait(&k->job, 3.0), CopyJob::State::Issued) << "raise to unlimited must take effect";
  other.join();
  EXPECT_EQ(k->dst, k->src);
  ce.stop();
  destroy(*j);
  destroy(*k);
}

TEST_F(CopyEngineTest, StagingPreemptsBackground) {
  CopyEngine ce(be_, 16 << 10);
  ce.set_bandwidth(16.0 * (1 << 20), 16 << 10);
  ce.start();
  auto bg = make_job(4 << 20, true, 3);  // ~250 ms at 16 MiB/s
  ce.submit(&bg->job);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto st = make_job(64 << 10, false, 4);
  ce.submit(&st->job);
  ASSERT_EQ(ce.wait(&st->job, -1), CopyJob::State::Issued);
  EXPECT_NE(ce.state(&bg->job), CopyJob::State::Issued) << "staging finished first";
  EXPECT_EQ(st->dst, st->src);
  ce.set_bandwidth(0.0, 0);
  ASSERT_EQ(ce.wait(&bg->job, -1), CopyJob::State::Issued);
  EXPECT_EQ(bg->dst, bg->src) << "a preempted job resumes at its offset";
  EXPECT_EQ(ce.background_bytes_total(), 4u << 20);
  ce.stop();
  destroy(*bg);
  destroy(*st);
}

TEST_F(CopyEngineTest, StopCancelsQueuedJobs) {
  auto ce = std::make_unique<CopyEngine>(be_, 4096);
  ce->set_bandwidth(1.0 * (1 << 20), 4096);
  ce->start();
  std::vector<std::unique_ptr<OwnedJob>> jobs;
  for (int i = 0; i < 4; ++i) {
    jobs.push_back(make_job(1 << 20, false, static_cast<unsigned char>(i)));
    ce->submit(&jobs.back()->job);
  }
  ce->stop();
  EXPECT_EQ(ce->state(&jobs.back()->job), CopyJob::State::Failed);
  EXPECT_EQ(ce->error(&jobs.back()->job), "copy engine stopped");
  ce->submit(&jobs.back()->job);
  EXPECT_EQ(ce->state(&jobs.back()->job), CopyJob::State::Failed) << "submit after stop fails";
  ce.reset();
  for (auto& j : jobs) destroy(*j);
}

}  // namespace sn

// The runtime's engine thread, copy thread and a telemetry/budget thread together.
TEST(RuntimeThreads, ConcurrentBudgetAndStatsWhileIterating) {
  using namespace sn_test;
  Model m(8, 64 << 10, 128 << 10, 41);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(4 << 20, 2);
  cfg.copy_chunk_bytes = 16 << 10;
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> all = every_nth(8, 1), half = every_nth(8, 2);
  setup_model(g.rt, m, all, half, 2);
  std::atomic<bool> stop{false};
  std::thread side([&] {
    int k = 0;
    while (!stop.load()) {
      const double rates[] = {0.0, 256.0 * (1 << 20), 64.0 * (1 << 20)};
      EXPECT_EQ(sn_bandwidth_set(g.rt, rates[k++ % 3], 0), SN_OK);
      sn_pool_stats ps;
      EXPECT_EQ(sn_pool_stats_get(g.rt, &ps), SN_OK);
      sn_switch_state ss;
      EXPECT_EQ(sn_switch_state_get(g.rt, &ss), SN_OK);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (int it = 0; it < 60; ++it) {
    if (it % 10 == 0) {
      const std::vector<uint32_t>& set = (it / 10) % 2 ? all : half;
      SN_OK_OR_FAIL(sn_offload_set(g.rt, set.data(), static_cast<uint32_t>(set.size()), set.size() == 8 ? 1 : 2));
    }
    run_iteration(g.rt, m);
  }
  stop = true;
  side.join();
}
