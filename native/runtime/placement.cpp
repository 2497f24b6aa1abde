#include "placement.h"

#include <algorithm>
#include <cassert>

namespace sn {

std::string validate_set(const uint32_t* layers, uint32_t n, uint32_t n_layers,
                         const LayerMask* within, const char* within_name) {
  if (n > 0 && layers == nullptr) return "layer list is null but count is " + std::to_string(n);
  LayerMask seen(n_layers, 0);
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = layers[k];
    if (i >= n_layers) {
      return "layer " + std::to_string(i) + " out of range (model has " +
             std::to_string(n_layers) + " layers)";
    }
    if (seen[i]) return "layer " + std::to_string(i) + " listed twice";
    seen[i] = 1;
    if (within != nullptr && !(*within)[i]) {
      return "layer " + std::to_string(i) + " is not in the " + within_name;
    }
  }
  return std::string();
}

LayerMask to_mask(const uint32_t* layers, uint32_t n, uint32_t n_layers) {
  LayerMask m(n_layers, 0);
  for (uint32_t k = 0; k < n; ++k) {
    assert(layers[k] < n_layers);
    m[layers[k]] = 1;
  }
  return m;
}

uint32_t mask_count(const LayerMask& m) {
  return static_cast<uint32_t>(std::count(m.begin(), m.end(), uint8_t{1}));
}

bool mask_subset(const LayerMask& a, const LayerMask& b) {
  assert(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] && !b[i]) return false;
  }
  return true;
}

std::vector<uint32_t> streamed_order(const LayerMask& offloaded) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < offloaded.size(); ++i) {
    if (offloaded[i]) out.push_back(i);
  }
  return out;
}

SwitchPlan plan_switch(const LayerMask& active, const LayerMask& target) {
  assert(active.size() == target.size());
  SwitchPlan p;
  for (uint32_t i = 0; i < active.size(); ++i) {
    if (!active[i] && target[i]) p.to_offload.push_back(i);
    if (active[i] && !target[i]) p.to_resident.push_back(i);
  }
  return p;
}

uint64_t resident_bytes(const std::vector<uint64_t>& layer_bytes, const LayerMask& offloaded) {
  assert(layer_bytes.size() == offloaded.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < layer_bytes.size(); ++i) {
    if (!offloaded[i]) sum += layer_bytes[i];
  }
  return sum;
}

uint64_t max_bytes(const std::vector<uint64_t>& layer_bytes, const LayerMask& mask) {
  uint64_t m = 0;
  for (size_t i = 0; i < layer_bytes.size(); ++i) {
    if (mask[i]) m = std::max(m, layer_bytes[i]);
  }
  return m;
}

}  // namespace sn
