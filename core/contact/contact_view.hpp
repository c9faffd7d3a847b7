#pragma once
// A contact's whole life as `contact show` and GET /v1/contacts/<id> show it:
// requested -> decided (with reasons) -> sent (provider id) -> responses.

#include <optional>
#include <string>

#include "record/record.hpp"
#include "store/store.hpp"

namespace touchpoint::core::contact {

/// The contact and its history, or nullopt when the store has no such contact.
std::optional<Json> contact_life(StoreReads& reads, const std::string& contact_id);

}  // namespace touchpoint::core::contact
