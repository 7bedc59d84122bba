// The registry of read models: every projection `strato serve` keeps current and `strato replay`
// rebuilds, in the order the runner folds them (and takes their checkpoint locks). A new read
// model is one line in AllProjections (registry.cpp) plus its migration.
//
// Each call makes fresh projection objects, owned by the caller (a runner, a rebuild).
#pragma once

#include <memory>
#include <vector>

#include "projections/runner/projection.h"

namespace strato::projections {

std::vector<std::unique_ptr<Projection>> AllProjections();

}  // namespace strato::projections
