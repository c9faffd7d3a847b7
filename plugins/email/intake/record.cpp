// to_record: the `response` record of docs/channels.md.
#include <nlohmann/json.hpp>

#include "intake.hpp"

namespace tp_email::intake {

touchpoint::Record to_record(const Response& r) {
  nlohmann::json data = nlohmann::json::object();
  if (!r.contact_id.empty()) data["contact_id"] = r.contact_id;
  if (!r.provider_id.empty()) data["provider_id"] = r.provider_id;
  data["channel"] = "email";
  data["kind"] = r.kind;
  if (!r.at.empty()) data["at"] = r.at;
  nlohmann::json detail = nlohmann::json::object();
  if (!r.status.empty()) detail["status"] = r.status;
  if (!r.diagnostic.empty()) detail["diagnostic"] = r.diagnostic;
  if (!r.feedback_type.empty()) detail["feedback_type"] = r.feedback_type;
  if (!r.method.empty()) detail["method"] = r.method;
  if (!r.url.empty()) detail["url"] = r.url;
  if (r.kind == "clicked" || r.kind == "opened") {
    detail["machine"] = r.machine;
    if (!r.machine_reason.empty()) detail["machine_reason"] = r.machine_reason;
    if (!r.user_agent.empty()) detail["user_agent"] = r.user_agent;
  }
  data["detail"] = std::move(detail);
  touchpoint::Record rec;
  rec.id = r.id;
  rec.type = "response";
  // Invalid UTF-8 left by a broken charset becomes U+FFFD instead of an exception.
  rec.data = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return rec;
}

}  // namespace tp_email::intake
