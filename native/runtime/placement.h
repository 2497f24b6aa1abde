// Placement: which layers are resident and which stream, as masks over L layers (1 = offloaded).
// Pure functions: validation of sets coming through the API, the switch plan between two sets,
// the streaming order of an iteration, and byte accounting per set.
#ifndef SELECTN_PLACEMENT_H
#define SELECTN_PLACEMENT_H

#include <cstdint>
#include <string>
#include <vector>

namespace sn {

using LayerMask = std::vector<uint8_t>;  // size L; 1 = in the set

// Empty string when `layers[0..n)` are distinct indices < n_layers and (if `within` is given)
// all inside it; otherwise a one-line reason naming the first bad entry.
std::string validate_set(const uint32_t* layers, uint32_t n, uint32_t n_layers,
                         const LayerMask* within, const char* within_name);
LayerMask to_mask(const uint32_t* layers, uint32_t n, uint32_t n_layers);
uint32_t mask_count(const LayerMask& m);
bool mask_subset(const LayerMask& a, const LayerMask& b);  // a ⊆ b

// Streamed layers of an iteration, ascending (the order the engine acquires them).
std::vector<uint32_t> streamed_order(const LayerMask& offloaded);

// Switch from `active` to `target` offload sets.
struct SwitchPlan {
  std::vector<uint32_t> to_offload;   // resident now, offloaded in target: release device copy
  std::vector<uint32_t> to_resident;  // offloaded now, resident in target: copy in background
};
SwitchPlan plan_switch(const LayerMask& active, const LayerMask& target);

// Device bytes of resident weights if `offloaded` were the offload set.
uint64_t resident_bytes(const std::vector<uint64_t>& layer_bytes, const LayerMask& offloaded);
// Largest layer in the mask (the staging slot size it needs); 0 if empty.
uint64_t max_bytes(const std::vector<uint64_t>& layer_bytes, const LayerMask& mask);

}  // namespace sn

#endif  // SELECTN_PLACEMENT_H
