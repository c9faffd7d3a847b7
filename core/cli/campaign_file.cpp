#include "cli/campaign_file.hpp"

#include <openssl/sha.h>

#include <cstring>

#include "cli/args.hpp"
#include "config/yaml_util.hpp"
#include "util/time_text.hpp"

namespace touchpoint::cli {

Campaign read_campaign_file(const std::string& file) {
  Campaign c;
  core::ConfigSource src(file);
  YAML::Node root = core::load_yaml_file(file);
  core::require_map(root, src, "campaign");
  core::require_keys_known(root,
                           {"name", "channel", "purpose", "campaign", "offer", "offer_category", "transactional",
                            "audience", "at", "template", "vars", "holdout"},
                           src, "campaign");
  auto str = [&](const char* key, std::string& out) {
    if (root[key]) out = core::get_string(root[key], src, key);
  };
  str("name", c.name);
  str("channel", c.proposal.channel);
  str("purpose", c.proposal.purpose);
  str("offer", c.proposal.offer);
  str("offer_category", c.proposal.offer_category);
  str("audience", c.audience);
  str("template", c.template_name);
  c.proposal.campaign = c.name;
  str("campaign", c.proposal.campaign);
  if (root["transactional"]) c.proposal.transactional = core::get_bool(root["transactional"], src, "transactional");
  if (root["at"]) {
    std::optional<int64_t> t = core::parse_rfc3339_ms(core::get_string(root["at"], src, "at"));
    if (!t) src.fail(root["at"], "at must be an RFC 3339 date-time");
    c.proposal.at = *t;
  }
  if (const YAML::Node v = root["vars"]) {
    core::require_map(v, src, "vars");
    for (const auto& kv : v) c.vars[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  if (const YAML::Node h = root["holdout"]) {
    try {
      c.holdout = h.as<double>();
    } catch (const YAML::Exception&) {
      src.fail(h, "holdout must be a number between 0 and 0.5");
    }
    if (!(c.holdout >= 0 && c.holdout <= 0.5)) src.fail(h, "holdout must be a number between 0 and 0.5");
  }
  if (c.proposal.channel.empty()) src.fail(root, "a campaign needs a channel (email, phone, sms, post or best)");
  return c;
}

std::optional<core::rules::Condition> checked_audience(const core::rules::Rulebook& rb, const Campaign& c) {
  if (const std::string problem = rb.check_proposal(c.proposal); !problem.empty()) throw UsageError(problem);
  if (c.audience.empty()) return std::nullopt;
  try {
    return rb.compile_condition(c.audience);
  } catch (const std::exception& e) {
    throw UsageError(std::string("audience condition: ") + e.what());
  }
}

bool in_holdout(const std::string& campaign, int64_t profile, double share) {
  if (share <= 0) return false;
  const std::string key = campaign + '\0' + std::to_string(profile);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), md);
  uint64_t v = 0;
  std::memcpy(&v, md, sizeof v);
  return double(v >> 11) / double(uint64_t{1} << 53) < share;
}

}  // namespace touchpoint::cli
