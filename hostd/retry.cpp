#include "hostd/retry.h"

namespace strato::hostd {

std::chrono::milliseconds Backoff(int failures, std::chrono::milliseconds first,
                                  std::chrono::milliseconds cap) {
  std::chrono::milliseconds d = first;
  for (int i = 1; i < failures && d < cap && d.count() > 0; ++i) d *= 2;
  return d < cap ? d : cap;
}

}  // namespace strato::hostd
