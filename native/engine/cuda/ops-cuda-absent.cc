// Built without the CUDA toolkit: no CUDA ops.
#include "../ops.h"

namespace sn::engine {

std::unique_ptr<Ops> make_cuda_ops(void*) { return nullptr; }

}  // namespace sn::engine
