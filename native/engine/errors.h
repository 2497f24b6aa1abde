// Engine errors: one exception type carrying a one-line message. Thrown only at load time and on
// bad caller input; the C API turns it into a status plus a thread-local message.
#ifndef SELECTN_ENGINE_ERRORS_H
#define SELECTN_ENGINE_ERRORS_H

#include <stdexcept>
#include <string>

#include "selectn/runtime.h"

namespace sn::engine {

struct EngineError : std::runtime_error {
  explicit EngineError(const std::string& m) : std::runtime_error(m) {}
};

// Throws EngineError("<what>: <runtime's last error>") if status is not SN_OK.
void check_rt(sn_status status, const char* what);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_ERRORS_H
