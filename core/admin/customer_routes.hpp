#pragma once
// Admin routes of the customer model and the rulebook:
//   POST   /v1/decide                       one proposal or an array: send/suppress with reasons
//   GET    /v1/profiles/<reference>         the 360-degree view (?events=N)
//   GET    /v1/contacts/<contact_id>        one contact's life: decision, sending, responses
//   POST   /v1/profiles/unmerge?merge=ID    split a merge
//   GET    /v1/suppressions?list=&limit=    entries of the suppression lists
//   POST   /v1/suppressions                 {customer, list, reason?, channels?, until?}
//   DELETE /v1/suppressions?list=&customer=
//   POST   /v1/gdpr/erase                   {customer}: erase (Art. 17), with a receipt per connector
//   GET    /v1/gdpr/export?customer=        everything held about a person (Art. 15)
//   GET    /v1/audit?limit=                 the audit log of admin actions

#include <functional>

#include "admin/admin_server.hpp"
#include "contact/decider.hpp"
#include "customer/customer_store.hpp"

namespace touchpoint::core {

/// Asks every connector that holds data to erase a person; returns one receipt per connector.
using EraseConnectors = std::function<Json(const customer::EraseResult&)>;

void add_customer_routes(AdminServer& server, customer::CustomerStore& customers, contact::Decider& decider,
                         EraseConnectors erase_connectors);

}  // namespace touchpoint::core
