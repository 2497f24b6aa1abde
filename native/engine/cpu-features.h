// Run-time x86 feature checks for the half-precision fast paths (dtype.cc, cpu/linear.cc).
// cpuid directly rather than __builtin_cpu_supports: clang-14 (the fuzz build) does not know
// the "f16c" feature string. AVX state must also be enabled by the OS (OSXSAVE + XGETBV).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>

namespace sn::engine {

struct X86Features {
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
};

inline X86Features probe_x86() {
  X86Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1u;
  if (!osxsave) return f;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool ymm_state = (xcr0_lo & 0x6u) == 0x6u;  // SSE and AVX state saved by the OS
  if (!ymm_state) return f;
  f.avx = (c >> 28) & 1u;
  f.fma = (c >> 12) & 1u;
  f.f16c = (c >> 29) & 1u;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) f.avx2 = (b >> 5) & 1u;
  return f;
}

/** Probed once per process. */
inline const X86Features& x86_features() {
  static const X86Features f = probe_x86();
  return f;
}

}  // namespace sn::engine
#endif
