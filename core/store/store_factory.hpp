#pragma once
// Builds the central store named by the hub config's store.type. The only
// place that knows the concrete backends: the runtime and the CLI work with
// the Store interface.

#include <memory>

#include "config/hub_config.hpp"
#include "store/store.hpp"

namespace touchpoint::core {

/// Opens (and migrates) the configured store. Throws std::runtime_error.
std::unique_ptr<Store> open_store(const HubConfig& hub);

}  // namespace touchpoint::core
