// A libuv return code as a Status naming what failed (0: Ok). hostd checks every libuv call
// that can fail; the few that cannot (uv_timer_stop, uv_poll_stop) say so where they are called.
#pragma once

#include <uv.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace strato::hostd {

inline Status UvStatus(int rc, std::string_view what) {
  if (rc == 0) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + uv_strerror(rc));
}

}  // namespace strato::hostd
