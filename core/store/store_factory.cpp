#include "store/store_factory.hpp"

#include <stdexcept>

#include "store/sqlite_store.hpp"

namespace touchpoint::core {

std::unique_ptr<Store> open_store(const HubConfig& hub) {
  if (hub.store_type == "sqlite") return std::make_unique<SqliteStore>(hub.store_path);
  throw std::runtime_error("store.type '" + hub.store_type + "' is not supported");
}

}  // namespace touchpoint::core
