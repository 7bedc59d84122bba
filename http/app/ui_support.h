// Kept only for the files that still include it (http/api/api_hosts.cpp, api_routes.cpp,
// http/app/visibility.cpp), which use the permission engine's answers: include
// http/app/permissions.h directly instead. The page helpers that were here (the error page, the
// state words, options, field errors, live regions) are in http/pages/, as templates and their
// views (http/pages/ui_html.h); app/ does not include pages/.
#pragma once

#include "http/app/app.h"
#include "http/app/permissions.h"
