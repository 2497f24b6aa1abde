#include <gtest/gtest.h>

#include "pacing.h"
#include "telemetry.h"

namespace sn {

TEST(TokenBucket, UnlimitedNeverWaits) {
  TokenBucket b;
  b.configure(0.0, 1024, 0.0);
  EXPECT_EQ(b.take(1e12, 0.0), 0.0);
}

TEST(TokenBucket, BurstThenPacedAtRate) {
  TokenBucket b;
  b.configure(1000.0, 500.0, 0.0);  // 1000 B/s, 500 B depth, starts empty
  EXPECT_NEAR(b.take(500.0, 0.0), 0.5, 1e-9);  // debt of 500 B at 1000 B/s
  EXPECT_NEAR(b.take(0.0, 0.25), 0.25, 1e-9);  // half paid back
  EXPECT_EQ(b.take(0.0, 0.5), 0.0);
  // Idle for 10 s: credit is capped at the depth.
  EXPECT_EQ(b.take(500.0, 10.5), 0.0);
  EXPECT_NEAR(b.take(100.0, 10.5), 0.1, 1e-9);
}

TEST(TokenBucket, LongRunRateMatchesBudget) {
  TokenBucket b;
  b.configure(1e6, 64e3, 0.0);
  double t = 0.0;
  for (int i = 0; i < 1000; ++i) {
    t += b.take(0.0, t);  // wait until out of debt
    b.take(64e3, t);      // issue a chunk
  }
  t += b.take(0.0, t);
  // 64 MB at 1 MB/s = 64 s (the bucket starts empty; the last chunk's debt is paid at the end).
  EXPECT_NEAR(t, 64.0, 1e-6);
}

TEST(TokenBucket, BudgetCutKeepsDebt) {
  TokenBucket b;
  b.configure(1000.0, 100.0, 0.0);
  b.take(1000.0, 0.0);            // 1000 B debt (minus nothing): 1 s at 1000 B/s
  b.configure(100.0, 100.0, 0.0);  // cut to 100 B/s
  EXPECT_NEAR(b.take(0.0, 0.0), 10.0, 1e-9);
}

TEST(BandwidthStats, EwmaAndP10) {
  BandwidthStats s(10, 0.5);
  EXPECT_EQ(s.p10(), 0.0);
  s.add(100.0);
  EXPECT_EQ(s.ewma(), 100.0);
  s.add(200.0);
  EXPECT_EQ(s.ewma(), 150.0);
  for (int i = 1; i <= 20; ++i) s.add(static_cast<double>(i));  // window keeps 11..20
  EXPECT_EQ(s.count(), 10u);
  EXPECT_EQ(s.p10(), 11.0);
}

}  // namespace sn
