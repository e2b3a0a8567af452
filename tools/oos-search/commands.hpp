// oos-search's two commands: a search through search::SearchClient, printed as text (a header line, then
// title, link and snippet per result) or JSON; and `quota`, each provider's ledger and breaker. With
// metrics.textfile_dir set, each run writes oos_search.prom (quota used and left, breakers). On both backends:
// the ledger, cache and breakers are the Backend's (store::Backend::search()).
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::search {

// Returns 0; a failed search is thrown as search::SearchError (65, 69, 75 or 78).
int run(const Command& command, app::Context& context, store::Backend& backend);

}  // namespace oos::tools::search
