// parse_intake_config: strict, every error names its key.
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "intake.hpp"

namespace tp_email::intake {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw std::invalid_argument(key + ": " + what);
}

void only_keys(const json& o, const std::string& where, std::initializer_list<const char*> allowed) {
  for (const auto& item : o.items()) {
    bool known = false;
    for (const char* k : allowed) known = known || item.key() == k;
    if (!known) fail(where + "." + item.key(), "unknown key");
  }
}

std::string string_of(const json& o, const std::string& where, const char* key, bool required) {
  const auto it = o.find(key);
  if (it == o.end()) {
    if (required) fail(where + "." + key, "required");
    return {};
  }
  if (!it->is_string()) fail(where + "." + key, "must be a string");
  return it->get<std::string>();
}

std::uint64_t count_of(const json& o, const std::string& where, const char* key, std::uint64_t dflt, std::uint64_t min,
                       std::uint64_t max) {
  const auto it = o.find(key);
  if (it == o.end()) return dflt;
  if (!it->is_number_integer()) fail(where + "." + key, "must be an integer");
  if (it->is_number_unsigned() ? false : it->get<std::int64_t>() < 0) fail(where + "." + key, "must not be negative");
  const auto v = it->get<std::uint64_t>();
  if (v < min || v > max)
    fail(where + "." + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

ImapConfig imap_of(const json& o) {
  const std::string where = "intake.imap";
  if (!o.is_object()) fail(where, "must be an object");
  only_keys(o, where, {"url", "username", "password", "tls", "ca_file", "move_to", "timeout_ms"});
  ImapConfig c;
  c.url = string_of(o, where, "url", true);
  const bool imaps = c.url.rfind("imaps://", 0) == 0;
  if (!imaps && c.url.rfind("imap://", 0) != 0) fail(where + ".url", "must start with imap:// or imaps://");
  // libcurl reads everything after the host as the mailbox; a mailbox is needed for SELECT.
  const std::size_t host_end = c.url.find('/', imaps ? 8 : 7);
  if (host_end == std::string::npos || host_end + 1 >= c.url.size())
    fail(where + ".url", "must name a mailbox, e.g. imap://127.0.0.1:143/INBOX");
  if (c.url.find_first_of(";?#", host_end) != std::string::npos)
    fail(where + ".url", "must not carry ;UID, ;UIDVALIDITY, a query or a fragment");
  c.username = string_of(o, where, "username", true);
  if (c.username.empty()) fail(where + ".username", "must not be empty");
  c.password = string_of(o, where, "password", true);
  if (const auto it = o.find("tls"); it != o.end()) {
    if (!it->is_boolean()) fail(where + ".tls", "must be true or false");
    c.tls = it->get<bool>();
  }
  if (imaps && !c.tls) fail(where + ".tls", "false contradicts an imaps:// url");
  c.ca_file = string_of(o, where, "ca_file", false);
  c.move_to = string_of(o, where, "move_to", false);
  if (c.move_to.find_first_of("\"\\\r\n") != std::string::npos || (o.contains("move_to") && c.move_to.empty()))
    fail(where + ".move_to", "must be a non-empty folder name without quotes, backslashes or line breaks");
  c.timeout_ms = static_cast<long>(count_of(o, where, "timeout_ms", 30000, 100, 600000));
  return c;
}

}  // namespace

IntakeConfig parse_intake_config(std::string_view intake_json) {
  json o;
  try {
    o = json::parse(intake_json);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("intake: not valid JSON: ") + e.what());
  }
  if (!o.is_object()) fail("intake", "must be an object");
  only_keys(o, "intake", {"maildir", "imap", "max_message_bytes", "max_per_poll", "max_recipients"});
  if (o.contains("maildir") == o.contains("imap")) fail("intake", "needs exactly one of maildir and imap");
  IntakeConfig c;
  if (o.contains("maildir")) {
    c.maildir = string_of(o, "intake", "maildir", true);
    if (c.maildir->empty()) fail("intake.maildir", "must not be empty");
  }
  if (o.contains("imap")) c.imap = imap_of(o["imap"]);
  c.max_message_bytes = count_of(o, "intake", "max_message_bytes", c.max_message_bytes, 1024, 1024ull * 1024 * 1024);
  c.max_per_poll = count_of(o, "intake", "max_per_poll", c.max_per_poll, 1, 10000);
  c.max_recipients = count_of(o, "intake", "max_recipients", c.max_recipients, 1, 10000);
  return c;
}

}  // namespace tp_email::intake
