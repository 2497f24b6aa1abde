// Build without CUDA: the factory reports SN_ERR_UNSUPPORTED.
#include "backend/backend.h"

namespace sn {

bool backend_cuda_compiled() { return false; }

BackendResult backend_cuda_create(int, Backend*) {
  return BackendResult::Err(SN_ERR_UNSUPPORTED,
                            "this build has no CUDA backend (configure with -DSELECTN_CUDA=ON)");
}

}  // namespace sn
