// The authorization engine's answers for the signed-in user, as the API's handlers and the
// pages ask them: may they do P on E; which entities of a type may they see. Read-only use of
// the App's tuples (App::tuples): call from any thread.
#pragma once

#include <string_view>

#include "core/status.h"
#include "http/app/app.h"
#include "http/server/request.h"

namespace strato::http {

// May the signed-in user do `permission` on `type`:`id`? False when the engine cannot say.
bool UserMay(const App& app, const Principal& who, std::string_view type, std::string_view id,
             std::string_view permission);

// Ids of the entities of `type` on which the signed-in user has `permission` (sorted; shared
// and kept until the tuples change: see TupleFeed::Readable).
Result<projections::EntityIds> UserEntities(const App& app, const Principal& who,
                                            std::string_view type, std::string_view permission);

}  // namespace strato::http
