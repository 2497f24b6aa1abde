// libFuzzer target: the safetensors header parser must accept or reject any byte string with an
// EngineError, never crash, hang or read out of bounds (run under ASan + UBSan).
#include <cstddef>
#include <cstdint>

#include "errors.h"
#include "safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    sn::engine::SafetensorsHeader h = sn::engine::parse_safetensors(data, size, "fuzz");
    for (const auto& t : h.tensors) {
      if (t.end > size - h.data_offset) __builtin_trap();  // validated offsets stay inside
    }
  } catch (const sn::engine::EngineError&) {
  }
  return 0;
}
