#include "errors.h"

namespace sn {
namespace {
thread_local std::string t_last_error;
}

sn_status fail(sn_status status, const std::string& message) {
  t_last_error = message;
  return status;
}

void clear_error() { t_last_error.clear(); }

}  // namespace sn

extern "C" const char* sn_last_error(void) { return sn::t_last_error.c_str(); }

extern "C" const char* sn_status_name(sn_status status) {
  switch (status) {
    case SN_OK: return "SN_OK";
    case SN_ERR_INVALID_ARGUMENT: return "SN_ERR_INVALID_ARGUMENT";
    case SN_ERR_OUT_OF_HOST_MEMORY: return "SN_ERR_OUT_OF_HOST_MEMORY";
    case SN_ERR_HOST_LOCK: return "SN_ERR_HOST_LOCK";
    case SN_ERR_NO_DEVICE_ROOM: return "SN_ERR_NO_DEVICE_ROOM";
    case SN_ERR_STATE: return "SN_ERR_STATE";
    case SN_ERR_BACKEND: return "SN_ERR_BACKEND";
    case SN_ERR_UNSUPPORTED: return "SN_ERR_UNSUPPORTED";
    case SN_ERR_TIMEOUT: return "SN_ERR_TIMEOUT";
  }
  return "SN_ERR_UNKNOWN";
}
