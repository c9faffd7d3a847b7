#pragma once
// The central store as the CLI opens it: the configured backend with the
// customer model on top, and the actor the audit log names ("cli:<user>").
// Writes by the CLI are safe while a hub runs on the same store: the hub
// notices them at its next transaction and drops its caches.

#include <memory>

#include "config/hub_config.hpp"
#include "customer/customer_store.hpp"
#include "store/store.hpp"

namespace touchpoint::cli {

class LocalStore {
 public:
  explicit LocalStore(const core::HubConfig& hub);
  core::Store& store() { return *store_; }
  core::customer::CustomerStore& customers() { return *customers_; }
  const core::customer::Actor& actor() const { return actor_; }

 private:
  std::unique_ptr<core::Store> store_;
  std::unique_ptr<core::customer::CustomerStore> customers_;
  core::customer::Actor actor_;
};

}  // namespace touchpoint::cli
