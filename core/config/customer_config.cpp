#include "config/customer_config.hpp"

#include <re2/re2.h>

#include "config/yaml_util.hpp"

namespace touchpoint::core {
namespace {

SurvivorshipRule parse_rule(const YAML::Node& n, const ConfigSource& src, const std::string& what) {
  const std::string r = get_string(n, src, what);
  if (r == "most_recent") return SurvivorshipRule::most_recent;
  if (r == "source_priority") return SurvivorshipRule::source_priority;
  if (r == "first_seen") return SurvivorshipRule::first_seen;
  if (r == "max") return SurvivorshipRule::max;
  if (r == "min") return SurvivorshipRule::min;
  if (r == "union") return SurvivorshipRule::union_;
  src.fail(n, what + " '" + r + "' is not a survivorship rule (most_recent, source_priority, first_seen, max, min, " +
                  "union)");
}

std::vector<std::string> string_list(const YAML::Node& n, const ConfigSource& src, const std::string& what) {
  std::vector<std::string> out;
  if (!n.IsSequence()) src.fail(n, what + " must be a list");
  for (const YAML::Node& item : n) out.push_back(get_string(item, src, what + " entry"));
  return out;
}

bool valid_kind(const std::string& k) {
  if (k == "email" || k == "phone" || k == "ext:*") return true;
  if (k.rfind("ext:", 0) != 0 || k.size() == 4 || k.size() > 68) return false;
  for (char c : k.substr(4))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

const char* to_string(SurvivorshipRule r) {
  switch (r) {
    case SurvivorshipRule::most_recent:
      return "most_recent";
    case SurvivorshipRule::source_priority:
      return "source_priority";
    case SurvivorshipRule::first_seen:
      return "first_seen";
    case SurvivorshipRule::max:
      return "max";
    case SurvivorshipRule::min:
      return "min";
    case SurvivorshipRule::union_:
      return "union";
  }
  return "most_recent";
}

namespace {

bool known_effect(const std::string& e) {
  return e == "invalidate_channel" || e == "revoke_consent" || e == "timeline" || e == "purchase" || e == "callback" ||
         e == "update_address" || e == "none" || (e.rfind("suppress:", 0) == 0 && e.size() > 9 && e.size() <= 64);
}

void read_contact_config(const YAML::Node& node, const ConfigSource& src, ContactConfig& c) {
  require_map(node, src, "customer.contacts");
  require_keys_known(node, {"soft_bounce", "effects"}, src, "customer.contacts");
  if (const YAML::Node sb = node["soft_bounce"]) {
    require_map(sb, src, "customer.contacts.soft_bounce");
    require_keys_known(sb, {"max", "window_days"}, src, "customer.contacts.soft_bounce");
    if (sb["max"]) c.soft_bounce_max = static_cast<int>(get_int(sb["max"], src, "soft_bounce.max", 1, 1000));
    if (sb["window_days"])
      c.soft_bounce_window_days = static_cast<int>(get_int(sb["window_days"], src, "soft_bounce.window_days", 1, 3650));
  }
  if (const YAML::Node ef = node["effects"]) {
    require_map(ef, src, "customer.contacts.effects");
    for (const auto& kv : ef) {
      const std::string kind = kv.first.as<std::string>();
      if (!kv.second.IsSequence()) src.fail(kv.second, "effects of '" + kind + "' must be a list");
      std::vector<std::string> list;
      for (const YAML::Node& e : kv.second) {
        std::string name = get_string(e, src, "effect");
        if (!known_effect(name))
          src.fail(e, "unknown effect '" + name +
                          "' (invalidate_channel, revoke_consent, timeline, purchase, callback, update_address, "
                          "suppress:<list>, none)");
        list.push_back(std::move(name));
      }
      c.effects[kind] = std::move(list);
    }
  }
}

void read_conversion_rule(const YAML::Node& node, const ConfigSource& src, const std::string& where,
                          report::ConversionRule& r) {
  if (const YAML::Node ev = node["events"]) {
    if (!ev.IsSequence() || ev.size() == 0) src.fail(ev, where + ".events must be a non-empty list of event types");
    r.events.clear();
    for (const YAML::Node& e : ev) {
      std::string t = get_string(e, src, where + ".events");
      if (t.empty() || t.size() > 64) src.fail(e, where + ".events: an event type has 1 to 64 characters");
      r.events.push_back(std::move(t));
    }
  }
  if (node["product"]) r.product = get_string(node["product"], src, where + ".product");
  if (node["category"]) r.category = get_string(node["category"], src, where + ".category");
  if (node["window_days"])
    r.window_ms = get_int(node["window_days"], src, where + ".window_days", 1, 3650) * report::kDayMs;
}

void read_conversion_config(const YAML::Node& node, const ConfigSource& src, report::ConversionConfig& c) {
  require_map(node, src, "customer.conversions");
  require_keys_known(node, {"events", "window_days", "half_life_days", "campaigns"}, src, "customer.conversions");
  read_conversion_rule(node, src, "customer.conversions", c.defaults);
  if (node["half_life_days"])
    c.half_life_ms =
        get_int(node["half_life_days"], src, "customer.conversions.half_life_days", 1, 3650) * report::kDayMs;
  if (const YAML::Node cs = node["campaigns"]) {
    require_map(cs, src, "customer.conversions.campaigns");
    for (const auto& kv : cs) {
      const std::string name = kv.first.as<std::string>();
      const std::string where = "customer.conversions.campaigns." + name;
      require_map(kv.second, src, where);
      require_keys_known(kv.second, {"events", "product", "category", "window_days"}, src, where);
      report::ConversionRule r = c.defaults;
      r.product.clear();
      r.category.clear();
      read_conversion_rule(kv.second, src, where, r);
      c.campaigns[name] = std::move(r);
    }
  }
}

}  // namespace

CustomerConfig read_customer_config(const YAML::Node& node, const ConfigSource& src,
                                    const std::filesystem::path& base_dir, const std::filesystem::path& data_dir) {
  CustomerConfig c;
  c.tombstone_key_file = data_dir / "tombstone.key";
  if (!node.IsDefined() || node.IsNull()) return c;
  require_map(node, src, "customer");
  require_keys_known(
      node,
      {"identities", "survivorship", "rulebook", "tombstone_key_file", "cache_profiles", "contacts", "conversions"},
      src, "customer");
  if (const YAML::Node ct = node["contacts"]) read_contact_config(ct, src, c.contacts);
  if (const YAML::Node cv = node["conversions"]) read_conversion_config(cv, src, c.conversions);
  if (const YAML::Node n = node["cache_profiles"])
    c.cache_profiles = static_cast<size_t>(get_int(n, src, "customer.cache_profiles", 0, 10'000'000));
  auto resolve = [&](const std::string& p) {
    std::filesystem::path path(p);
    return (path.is_relative() ? base_dir / path : path).lexically_normal();
  };
  if (const YAML::Node r = node["rulebook"]) c.rulebook = resolve(get_string(r, src, "customer.rulebook"));
  if (const YAML::Node t = node["tombstone_key_file"])
    c.tombstone_key_file = resolve(get_string(t, src, "customer.tombstone_key_file"));
  if (const YAML::Node ids = node["identities"]) {
    require_map(ids, src, "customer.identities");
    for (const auto& kv : ids) {
      const std::string kind = kv.first.Scalar();
      if (!valid_kind(kind))
        src.fail(kv.first, "identity kind '" + kind + "' is not email, phone, ext:<system> or ext:*");
      const YAML::Node spec = kv.second;
      IdentityKindSpec s;
      if (spec.IsDefined() && !spec.IsNull()) {
        require_map(spec, src, "customer.identities." + kind);
        require_keys_known(spec, {"max_per_profile", "blocked", "blocked_patterns"}, src,
                           "customer.identities." + kind);
        if (spec["max_per_profile"])
          s.max_per_profile = static_cast<int>(get_int(spec["max_per_profile"], src, "max_per_profile", 0, 1000));
        if (spec["blocked"]) s.blocked = string_list(spec["blocked"], src, "blocked");
        if (const YAML::Node pats = spec["blocked_patterns"]) {
          s.blocked_patterns = string_list(pats, src, "blocked_patterns");
          for (size_t i = 0; i < s.blocked_patterns.size(); ++i) {
            RE2 re(s.blocked_patterns[i], RE2::Quiet);
            if (!re.ok()) src.fail(pats[i], "blocked pattern is not a valid RE2 expression: " + re.error());
          }
        }
      }
      c.identities[kind] = std::move(s);
    }
  }
  if (const YAML::Node sv = node["survivorship"]) {
    require_map(sv, src, "customer.survivorship");
    require_keys_known(sv, {"default", "rules"}, src, "customer.survivorship");
    if (sv["default"]) c.default_rule = parse_rule(sv["default"], src, "customer.survivorship.default");
    if (c.default_rule == SurvivorshipRule::source_priority)
      src.fail(sv["default"], "the default rule cannot be source_priority: it needs a list of sources");
    if (const YAML::Node rules = sv["rules"]) {
      if (!rules.IsSequence()) src.fail(rules, "customer.survivorship.rules must be a list");
      for (const YAML::Node& r : rules) {
        require_map(r, src, "survivorship rule");
        require_keys_known(r, {"attributes", "rule", "sources"}, src, "survivorship rule");
        SurvivorshipSpec s;
        if (!r["attributes"]) src.fail(r, "a survivorship rule needs 'attributes'");
        s.attributes = string_list(r["attributes"], src, "attributes");
        if (s.attributes.empty()) src.fail(r["attributes"], "attributes must not be empty");
        if (!r["rule"]) src.fail(r, "a survivorship rule needs 'rule'");
        s.rule = parse_rule(r["rule"], src, "rule");
        if (r["sources"]) s.sources = string_list(r["sources"], src, "sources");
        if (s.rule == SurvivorshipRule::source_priority && s.sources.empty())
          src.fail(r, "rule source_priority needs 'sources' (the leading system first)");
        if (s.rule != SurvivorshipRule::source_priority && !s.sources.empty())
          src.fail(r["sources"], "'sources' only applies to rule source_priority");
        c.survivorship.push_back(std::move(s));
      }
    }
  }
  return c;
}

}  // namespace touchpoint::core
