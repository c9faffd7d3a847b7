#include "cli/local_store.hpp"

#include <pwd.h>
#include <unistd.h>

#include "store/store_factory.hpp"

namespace touchpoint::cli {

LocalStore::LocalStore(const core::HubConfig& hub) : store_(core::open_store(hub)) {
  customers_ = std::make_unique<core::customer::CustomerStore>(
      *store_, hub.customer, core::customer::load_or_create_tombstone_key(hub.customer.tombstone_key_file));
  const passwd* pw = ::getpwuid(::geteuid());
  actor_.name = std::string("cli:") + (pw ? pw->pw_name : std::to_string(::geteuid()));
  actor_.address = "local";
}

}  // namespace touchpoint::cli
