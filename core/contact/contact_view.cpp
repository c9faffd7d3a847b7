#include "contact/contact_view.hpp"

#include "util/time_text.hpp"

namespace touchpoint::core::contact {

std::optional<Json> contact_life(StoreReads& reads, const std::string& contact_id) {
  std::optional<ContactRow> c = reads.contact(contact_id);
  if (!c) return std::nullopt;
  Json history = Json::array();
  for (const ContactEventRow& e : reads.contact_events(contact_id)) {
    Json detail = Json::parse(e.detail, nullptr, false);
    history.push_back(
        {{"at", format_rfc3339_ms(e.at)}, {"what", e.what}, {"detail", detail.is_discarded() ? Json() : detail}});
  }
  Json reasons = Json::parse(c->reasons, nullptr, false);
  Json out{{"contact_id", c->id},
           {"profile_id", c->profile_id},
           {"channel", c->channel},
           {"campaign", c->campaign},
           {"offer", c->offer},
           {"offer_category", c->offer_category},
           {"purpose", c->purpose},
           {"template", c->template_name},
           {"transactional", c->transactional},
           {"decision", c->decision},
           {"reasons", reasons.is_discarded() ? Json::array() : reasons},
           {"state", c->state},
           {"provider_id", c->provider_id},
           {"sink", c->sink},
           {"request", {{"source", c->request_source}, {"record_id", c->request_id}}},
           {"created", format_rfc3339_ms(c->created_ms)},
           {"updated", format_rfc3339_ms(c->updated_ms)},
           {"history", history}};
  return out;
}

}  // namespace touchpoint::core::contact
