// Error reporting for the C API: a thread-local last-error message plus status names.
#ifndef SELECTN_ERRORS_H
#define SELECTN_ERRORS_H

#include <string>

#include "selectn/runtime.h"

namespace sn {

// Stores `message` as this thread's last error and returns `status` (for `return fail(...)`).
sn_status fail(sn_status status, const std::string& message);
void clear_error();

}  // namespace sn

#endif  // SELECTN_ERRORS_H
