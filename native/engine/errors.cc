#include "errors.h"

namespace sn::engine {

void check_rt(sn_status status, const char* what) {
  if (status == SN_OK) return;
  throw EngineError(std::string(what) + ": " + sn_status_name(status) + ": " + sn_last_error());
}

}  // namespace sn::engine
