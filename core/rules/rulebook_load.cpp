// Rulebook::load: reads the YAML file strictly (unknown keys, wrong types
// and bad values are positioned ConfigErrors) and compiles it.

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#include <span>
#include <sstream>

#include "config/config_error.hpp"
#include "config/yaml_util.hpp"
#include "rules/rulebook_impl.hpp"
#include "rules/time_util.hpp"

namespace touchpoint::core::rules {

namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string(), 0, 0, "cannot read file");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string sha256_version(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1 || len < 8)
    throw std::runtime_error("SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < 8; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return (s[0] >= 'a' && s[0] <= 'z');
}

using Keys = std::span<const char* const>;

constexpr const char* kTopKeys[] = {"description", "timezone", "channels", "purposes",
                                    "attributes",  "routing",  "rules",    "tests"};
constexpr const char* kRoutingKeys[] = {"attribute", "order"};
constexpr const char* kConsentKeys[] = {"consent_purpose", "mode"};
constexpr const char* kSuppressionKeys[] = {"lists", "other_lists"};
constexpr const char* kListKeys[] = {"all_purposes", "channels", "description"};
constexpr const char* kCapKeys[] = {"max", "window", "events", "across_channels", "across_purposes", "same_campaign"};
constexpr const char* kQuietKeys[] = {"events", "window"};
constexpr const char* kPurchaseKeys[] = {"events", "window", "match"};
constexpr const char* kHoursKeys[] = {"timezone", "from", "to", "days"};
constexpr const char* kCommonKeys[] = {"name",     "kind", "effect",        "description", "channels",
                                       "purposes", "when", "transactional", "code"};
constexpr const char* kCaseKeys[] = {"name", "description", "at", "unknown", "customer", "proposal", "expect"};
constexpr const char* kCustomerKeys[] = {"profile_id", "attributes", "consents", "channels", "events", "suppressions"};
constexpr const char* kConsentItemKeys[] = {"channel", "purpose", "status", "at", "days_ago", "ago", "source"};
constexpr const char* kChannelStateKeys[] = {"address", "valid", "reason", "since"};
constexpr const char* kEventKeys[] = {"event_type", "at",      "days_ago", "ago",     "channel",
                                      "purpose",    "product", "category", "campaign"};
constexpr const char* kSuppressionItemKeys[] = {"list", "reason", "channels", "until", "until_days"};
constexpr const char* kProposalKeys[] = {"customer", "channel",        "purpose",      "campaign",
                                         "offer",    "offer_category", "transactional"};
constexpr const char* kExpectKeys[] = {"decision", "channel", "reasons", "notes", "ordered"};
constexpr const char* kExpectedReasonKeys[] = {"code", "rule", "channel"};

struct KindInfo {
  const char* name;
  Kind kind;
  const char* code;
  bool bypass;  ///< transactional default
  Keys keys;
};

const KindInfo kKinds[] = {
    {"consent", Kind::Consent, "consent_missing", true, kConsentKeys},
    {"suppression", Kind::Suppression, "suppressed", true, kSuppressionKeys},
    {"channel_validity", Kind::ChannelValidity, "channel_invalid", false, {}},
    {"frequency_cap", Kind::FrequencyCap, "frequency_cap", true, kCapKeys},
    {"quiet_period", Kind::QuietPeriod, "quiet_period", true, kQuietKeys},
    {"recent_purchase", Kind::RecentPurchase, "recent_purchase", true, kPurchaseKeys},
    {"condition", Kind::Condition, "condition", false, {}},
    {"contact_hours", Kind::ContactHours, "contact_hours", false, kHoursKeys},
};

class Loader {
 public:
  Loader(const fs::path& file, const std::string& text, Rulebook::Impl& rb)
      : src_(file.string()), text_(text), rb_(rb) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }

  void load(const YAML::Node& root_in) {
    YAML::Node root = root_in;
    if (!root.IsDefined() || root.IsNull()) src_.fail(root, "the rulebook is empty (it needs at least rules:)");
    check_keys(root, std::span(kTopKeys), {}, "the rulebook");
    if (const YAML::Node n = root["description"]) rb_.description = get_string(n, src_, "description");
    channels(root["channels"]);
    if (const YAML::Node n = root["purposes"]) {
      rb_.purposes = names(n, "purposes");
      if (rb_.purposes.empty()) src_.fail(n, "purposes: list at least one purpose, or leave the key out");
    }
    if (const YAML::Node n = root["attributes"]) attributes(n);
    rb_.schema.channels = rb_.channels;
    rb_.schema.purposes = rb_.purposes;
    if (const YAML::Node n = root["timezone"]) default_tz_ = zone(n, "timezone");
    routing(root);
    const YAML::Node rules = root["rules"];
    if (!rules) src_.fail(root, "the rulebook needs rules: (a list of rules)");
    if (!rules.IsSequence()) src_.fail(rules, "rules must be a list");
    for (const YAML::Node& r : rules) rule(r);
    for (const Rule& r : rb_.rules) rb_.lookback = std::max(rb_.lookback, r.window);
    if (const YAML::Node t = root["tests"]) {
      if (!t.IsSequence()) src_.fail(t, "tests must be a list of test cases");
      std::set<std::string> seen;
      for (const YAML::Node& c : t) {
        test_case(c);
        if (!seen.insert(rb_.tests.back().name).second)
          src_.fail(c["name"], "duplicate test case name '" + rb_.tests.back().name + "'");
      }
    }
  }

 private:
  // ---------------------------------------------------------------- helpers

  /// Like require_keys_known, with the allowed keys from two lists.
  void check_keys(const YAML::Node& map, Keys a, Keys b, const std::string& what) const {
    if (!map.IsMap()) src_.fail(map, what + " must be a mapping");
    std::set<std::string> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) src_.fail(kv.first, "keys in " + what + " must be plain strings");
      const std::string& key = kv.first.Scalar();
      if (!seen.insert(key).second) src_.fail(kv.first, "duplicate key '" + key + "' in " + what);
      const bool known = std::any_of(a.begin(), a.end(), [&](const char* k) { return key == k; }) ||
                         std::any_of(b.begin(), b.end(), [&](const char* k) { return key == k; });
      if (!known) {
        std::string list;
        for (const char* k : a) list += (list.empty() ? "" : ", ") + std::string(k);
        for (const char* k : b) list += (list.empty() ? "" : ", ") + std::string(k);
        src_.fail(kv.first, "unknown key '" + key + "' in " + what + " (allowed: " + list + ")");
      }
    }
  }

  std::string str(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) src_.fail(n, what + " must be a string");
    return n.Scalar();
  }

  std::string nonempty(const YAML::Node& n, const std::string& what) const {
    std::string s = str(n, what);
    if (s.empty()) src_.fail(n, what + " must not be empty");
    return s;
  }

  bool boolean(const YAML::Node& n, const std::string& what) const { return get_bool(n, src_, what); }

  /// A list of names; a single scalar counts as a list of one.
  std::vector<std::string> names(const YAML::Node& n, const std::string& what) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(nonempty(n, what));
      return out;
    }
    if (!n.IsSequence()) src_.fail(n, what + " must be a list");
    for (const YAML::Node& e : n) {
      std::string s = nonempty(e, what + " entries");
      if (std::find(out.begin(), out.end(), s) != out.end()) src_.fail(e, "'" + s + "' is listed twice in " + what);
      out.push_back(std::move(s));
    }
    return out;
  }

  int channel(const YAML::Node& n, const std::string& what) const {
    const std::string s = str(n, what);
    const int i = rb_.channel_index(s);
    if (i < 0) src_.fail(n, what + ": '" + s + "' is not a channel (channels: " + join(rb_.channels) + ")");
    return i;
  }

  ChannelMask channel_mask(const YAML::Node& n, const std::string& what) const {
    ChannelMask m = 0;
    if (n.IsScalar()) return ChannelMask{1} << channel(n, what);
    if (!n.IsSequence()) src_.fail(n, what + " must be a list of channels");
    if (n.size() == 0) src_.fail(n, what + " must list at least one channel (leave it out for every channel)");
    for (const YAML::Node& e : n) {
      const ChannelMask bit = ChannelMask{1} << channel(e, what);
      if (m & bit) src_.fail(e, "'" + e.Scalar() + "' is listed twice in " + what);
      m |= bit;
    }
    return m;
  }

  void check_purpose(const YAML::Node& n, const std::string& p, const std::string& what) const {
    if (!rb_.purposes.empty() && std::find(rb_.purposes.begin(), rb_.purposes.end(), p) == rb_.purposes.end())
      src_.fail(n, what + ": '" + p + "' is not a declared purpose (purposes: " + join(rb_.purposes) + ")");
  }

  TimeMs duration(const YAML::Node& n, const std::string& what) const {
    const std::string s = str(n, what);
    std::string why;
    const auto d = parse_duration(s, &why);
    if (!d) src_.fail(n, what + ": '" + s + "' is not a duration: " + why);
    return *d;
  }

  TimeMs timestamp(const YAML::Node& n, const std::string& what) const {
    const std::string s = str(n, what);
    const auto t = parse_rfc3339(s);
    if (!t) src_.fail(n, what + ": '" + s + "' is not an RFC 3339 time like 2026-03-03T10:00:00+01:00");
    return *t;
  }

  const date::time_zone* zone(const YAML::Node& n, const std::string& what) const {
    const std::string name = nonempty(n, what);
    try {
      return date::locate_zone(name);
    } catch (const std::exception&) {
      src_.fail(n, what + ": unknown time zone '" + name + "' (use an IANA name like Europe/Berlin)");
    }
  }

  /// "HH:MM" as milliseconds after midnight; "24:00" only when `end`.
  TimeMs clock_time(const YAML::Node& n, const std::string& what, bool end) const {
    const std::string s = str(n, what);
    const bool shape = s.size() == 5 && s[2] == ':' && std::isdigit(static_cast<unsigned char>(s[0])) &&
                       std::isdigit(static_cast<unsigned char>(s[1])) &&
                       std::isdigit(static_cast<unsigned char>(s[3])) && std::isdigit(static_cast<unsigned char>(s[4]));
    const int h = shape ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
    const int m = shape ? (s[3] - '0') * 10 + (s[4] - '0') : -1;
    if (!shape || h > 24 || m > 59 || (h == 24 && (m != 0 || !end)))
      src_.fail(n, what + ": '" + s + "' is not a time of day like 08:00" + (end ? " (or 24:00)" : ""));
    return h * kHourMs + m * kMinuteMs;
  }

  /// Compiles a condition; errors point at the column inside the condition
  /// when the scalar sits on one line as written.
  Condition condition(const YAML::Node& n, const std::string& what) const {
    const std::string text = str(n, what);
    try {
      return Condition::compile(text, rb_.schema);
    } catch (const ConditionError& e) {
      const YAML::Mark m = n.Mark();
      if (!m.is_null()) {
        if (const auto pos = condition_position(m, text, e.offset()))
          throw ConfigError(src_.file(), pos->first, pos->second, what + ": " + e.message());
      }
      throw ConfigError(
          src_.file(), m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1,
          what + ": " + e.message() + " (at column " + std::to_string(e.offset() + 1) + " of the condition)");
    }
  }

  std::string_view line_text(int line) const {
    if (line < 0 || static_cast<size_t>(line) >= line_starts_.size()) return {};
    const size_t start = line_starts_[static_cast<size_t>(line)];
    size_t end = text_.find('\n', start);
    if (end == std::string::npos) end = text_.size();
    std::string_view v(text_.data() + start, end - start);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    return v;
  }

  /// The 1-based file line and column of `offset` inside the condition, or
  /// nullopt when the scalar's text is not the condition verbatim.
  std::optional<std::pair<int, int>> condition_position(const YAML::Mark& m, const std::string& text,
                                                        size_t offset) const {
    std::string_view t = text;
    while (!t.empty() && t.back() == '\n') t.remove_suffix(1);  // block scalars keep their final newline
    if (t.find('\n') != std::string_view::npos || offset > t.size()) return std::nullopt;
    std::string_view raw = line_text(m.line);
    auto col = static_cast<size_t>(m.column);
    if (col >= raw.size()) return std::nullopt;
    const char q = raw[col];
    if (q == '|' || q == '>') {
      // A block scalar: the text starts on the next line, after the indentation.
      raw = line_text(m.line + 1);
      col = raw.find_first_not_of(' ');
      if (col == std::string_view::npos || raw.substr(col) != t) return std::nullopt;
      return std::pair(m.line + 2, static_cast<int>(col + offset + 1));
    }
    size_t start = col;
    if (q == '\'' || q == '"') {
      if (t.find(q) != std::string_view::npos || (q == '"' && t.find('\\') != std::string_view::npos))
        return std::nullopt;
      start = col + 1;
    }
    if (raw.substr(start, t.size()) != t) return std::nullopt;
    return std::pair(m.line + 1, static_cast<int>(start + offset + 1));
  }

  // ---------------------------------------------------------------- sections

  void channels(const YAML::Node& n) {
    if (!n) {
      rb_.channels = {"email", "phone", "sms", "post"};
      return;
    }
    rb_.channels = names(n, "channels");
    if (rb_.channels.empty()) src_.fail(n, "channels: list at least one channel");
    if (rb_.channels.size() > kMaxChannels) src_.fail(n, "channels: at most 64 channels");
    size_t i = 0;
    for (const std::string& c : rb_.channels) {
      const YAML::Node e = n.IsSequence() ? n[i] : n;
      if (!valid_name(c)) src_.fail(e, "channel names are lower case letters, digits, '_' and '-': '" + c + "'");
      if (c == "best") src_.fail(e, "'best' is not a channel: proposals use it to ask for routing");
      ++i;
    }
  }

  void attributes(const YAML::Node& n) {
    if (!n.IsMap()) src_.fail(n, "attributes must be a mapping of attribute name to type");
    rb_.schema.attributes_declared = true;
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const std::string name = str(kv.first, "attribute names");
      if (!seen.insert(name).second) src_.fail(kv.first, "duplicate attribute '" + name + "'");
      if (name.empty() || name.find('.') != std::string::npos)
        src_.fail(kv.first, "attribute names are top-level profile fields without dots");
      const std::string t = str(kv.second, "the type of attribute '" + name + "'");
      AttrType type{};
      if (!parse_attr_type(t, type))
        src_.fail(kv.second, "unknown type '" + t + "' (use string, number, bool, list, object or any)");
      rb_.schema.attributes.emplace(name, type);
    }
  }

  void routing(const YAML::Node& root) {
    const YAML::Node n = root["routing"];
    if (n) {
      check_keys(n, std::span(kRoutingKeys), {}, "routing");
      if (const YAML::Node a = n["attribute"]) rb_.routing.attribute = nonempty(a, "routing.attribute");
      if (const YAML::Node o = n["order"]) {
        if (!o.IsSequence()) src_.fail(o, "routing.order must be a list of channels");
        if (o.size() > 0) (void)channel_mask(o, "routing.order");  // checks names and duplicates
        for (const YAML::Node& e : o) rb_.routing.order.push_back(channel(e, "routing.order"));
      } else {
        for (size_t i = 0; i < rb_.channels.size(); ++i) rb_.routing.order.push_back(static_cast<int>(i));
      }
    } else {
      for (size_t i = 0; i < rb_.channels.size(); ++i) rb_.routing.order.push_back(static_cast<int>(i));
    }
    // A routing attribute named explicitly is checked against the declared attributes.
    if (n && n["attribute"] && rb_.schema.attributes_declared) {
      const YAML::Node a = n["attribute"];
      const auto it = rb_.schema.attributes.find(rb_.routing.attribute);
      if (it == rb_.schema.attributes.end())
        src_.fail(a, "routing attribute '" + rb_.routing.attribute +
                         "' is not declared under attributes: (declare it, e.g. " + rb_.routing.attribute +
                         ": string)");
      if (it->second != AttrType::String && it->second != AttrType::Any)
        src_.fail(a, "routing attribute '" + rb_.routing.attribute + "' is declared as " + attr_type_name(it->second) +
                         "; it must hold a channel name (string)");
    }
  }

  void rule(const YAML::Node& n) {
    if (!n.IsMap()) src_.fail(n, "each rule must be a mapping with name, kind and effect");
    const YAML::Node name_node = n["name"];
    if (!name_node) src_.fail(n, "rule without a name");
    Rule r;
    r.name = nonempty(name_node, "rule name");
    r.line = n.Mark().line + 1;
    const std::string where = "rule '" + r.name + "'";
    for (const Rule& other : rb_.rules)
      if (other.name == r.name)
        src_.fail(name_node, "duplicate rule name '" + r.name + "' (first at line " + std::to_string(other.line) + ")");
    const YAML::Node kind_node = n["kind"];
    if (!kind_node) src_.fail(n, where + " needs a kind");
    const std::string kind = str(kind_node, "kind");
    const KindInfo* info = nullptr;
    for (const KindInfo& k : kKinds)
      if (kind == k.name) info = &k;
    if (info == nullptr) {
      std::string list;
      for (const KindInfo& k : kKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
      src_.fail(kind_node, "unknown rule kind '" + kind + "' (known: " + list + ")");
    }
    check_keys(n, std::span(kCommonKeys), info->keys, where + " (kind " + kind + ")");
    r.kind = info->kind;
    r.code = info->code;
    r.bypass_transactional = info->bypass;

    const YAML::Node effect = n["effect"];
    if (!effect) src_.fail(n, where + " needs an effect: suppress or flag");
    const std::string e = str(effect, "effect");
    if (e == "flag")
      r.flag = true;
    else if (e != "suppress")
      src_.fail(effect, "effect must be suppress or flag, got '" + e + "'");

    if (const YAML::Node c = n["code"]) {
      r.code = str(c, "code");
      if (!valid_name(r.code) || r.code.find('-') != std::string::npos)
        src_.fail(c, "code must be lower case letters, digits and '_', like credit_risk");
    }
    if (const YAML::Node c = n["channels"]) r.channels = channel_mask(c, "channels");
    if (const YAML::Node p = n["purposes"]) {
      r.purposes = names(p, "purposes");
      size_t i = 0;
      for (const std::string& s : r.purposes) check_purpose(p.IsSequence() ? p[i++] : p, s, "purposes");
    }
    if (const YAML::Node t = n["transactional"]) {
      const std::string s = str(t, "transactional");
      if (s == "bypass")
        r.bypass_transactional = true;
      else if (s == "apply")
        r.bypass_transactional = false;
      else
        src_.fail(t, "transactional must be bypass or apply, got '" + s + "'");
    }
    if (const YAML::Node w = n["when"]) r.when = condition(w, "when");
    if (r.kind == Kind::Condition && !r.when)
      src_.fail(n, where + ": a condition rule needs when: (the condition under which it fires)");

    switch (r.kind) {
      case Kind::Consent:
        if (const YAML::Node p = n["consent_purpose"]) {
          r.consent_purpose = nonempty(p, "consent_purpose");
          check_purpose(p, r.consent_purpose, "consent_purpose");
        }
        if (const YAML::Node m = n["mode"]) {
          const std::string s = str(m, "mode");
          if (s == "opt_out")
            r.opt_out = true;
          else if (s != "opt_in")
            src_.fail(m, "mode must be opt_in (granted required) or opt_out (only denied/revoked block)");
        }
        break;
      case Kind::Suppression:
        suppression(n, r);
        break;
      case Kind::ChannelValidity:
      case Kind::Condition:
        break;
      case Kind::FrequencyCap: {
        const YAML::Node m = n["max"];
        if (!m) src_.fail(n, where + " needs max: (contacts allowed per window)");
        r.max = get_int(m, src_, "max", 0, 1'000'000);
        window(n, r, where, true);
        events(n, r, {"message_sent"});
        if (const YAML::Node b = n["across_channels"]) r.across_channels = boolean(b, "across_channels");
        if (const YAML::Node b = n["across_purposes"]) r.across_purposes = boolean(b, "across_purposes");
        if (const YAML::Node b = n["same_campaign"]) r.same_campaign = boolean(b, "same_campaign");
        break;
      }
      case Kind::QuietPeriod:
        if (!n["events"]) src_.fail(n, where + " needs events: (the event types that start the quiet period)");
        window(n, r, where, true);
        events(n, r, {});
        break;
      case Kind::RecentPurchase:
        window(n, r, where, true);
        events(n, r, {"purchase", "contract_signed"});
        if (const YAML::Node m = n["match"]) {
          r.match_product = r.match_category = false;
          for (const std::string& s : names(m, "match")) {
            if (s == "product")
              r.match_product = true;
            else if (s == "category")
              r.match_category = true;
            else
              src_.fail(m,
                        "match lists product (offer vs. event product) and/or category (offer_category vs. "
                        "event category), got '" +
                            s + "'");
          }
        }
        break;
      case Kind::ContactHours:
        hours(n, r, where);
        break;
    }
    rb_.rules.push_back(std::move(r));
  }

  void window(const YAML::Node& n, Rule& r, const std::string& where, bool required) const {
    const YAML::Node w = n["window"];
    if (!w) {
      if (required) src_.fail(n, where + " needs window: (a duration like 7d)");
      return;
    }
    r.window = duration(w, "window");
    r.window_text = format_duration(r.window);
  }

  void events(const YAML::Node& n, Rule& r, std::vector<std::string> defaults) const {
    if (const YAML::Node e = n["events"]) {
      r.events = names(e, "events");
      if (r.events.empty()) src_.fail(e, "events must list at least one event type");
    } else {
      r.events = std::move(defaults);
    }
  }

  void suppression(const YAML::Node& n, Rule& r) const {
    if (const YAML::Node lists = n["lists"]) {
      if (!lists.IsMap())
        src_.fail(lists, "lists must be a mapping of list name to its settings, e.g. blacklist: {all_purposes: true}");
      std::set<std::string> seen;
      for (const auto& kv : lists) {
        ListDecl d;
        d.name = nonempty(kv.first, "list names");
        if (!seen.insert(d.name).second) src_.fail(kv.first, "duplicate list '" + d.name + "'");
        const YAML::Node v = kv.second;
        if (v && !v.IsNull()) {
          check_keys(v, std::span(kListKeys), {}, "list '" + d.name + "'");
          if (const YAML::Node a = v["all_purposes"]) d.all_purposes = boolean(a, "all_purposes");
          if (const YAML::Node c = v["channels"]) d.channels = channel_mask(c, "channels");
          if (const YAML::Node c = v["description"]) (void)str(c, "description");
        }
        r.lists.push_back(std::move(d));
      }
    }
    if (const YAML::Node o = n["other_lists"]) {
      const std::string s = str(o, "other_lists");
      if (s == "ignore")
        r.other_lists_apply = false;
      else if (s != "apply")
        src_.fail(o, "other_lists must be apply (entries on lists not named here suppress too) or ignore");
    }
  }

  void hours(const YAML::Node& n, Rule& r, const std::string& where) const {
    if (const YAML::Node z = n["timezone"]) {
      r.tz = zone(z, "timezone");
    } else if (default_tz_ != nullptr) {
      r.tz = default_tz_;
    } else {
      src_.fail(n, where + " needs a timezone: (here or at the top of the rulebook)");
    }
    r.tz_name = std::string(r.tz->name());
    const YAML::Node from = n["from"], to = n["to"];
    if (!from || !to) src_.fail(n, where + " needs from: and to: (local times like 08:00 and 20:00)");
    r.from_ms = clock_time(from, "from", false);
    r.to_ms = clock_time(to, "to", true);
    if (r.from_ms == r.to_ms || (r.from_ms == 0 && r.to_ms == kDayMs))
      src_.fail(to, "from and to describe the whole day or nothing; leave the rule out or change the times");
    r.hours_text = from.Scalar() + "-" + to.Scalar();
    if (const YAML::Node d = n["days"]) r.days = days(d);
  }

  uint8_t days(const YAML::Node& n) const {
    static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    auto index = [&](std::string_view s, const YAML::Node& at) {
      for (int i = 0; i < 7; ++i)
        if (s == kDays[i]) return i;
      src_.fail(at, "days: '" + std::string(s) +
                        "' is not a day (mon, tue, wed, thu, fri, sat, sun, or a range like "
                        "mon-fri)");
    };
    const YAML::Node list = n;
    if (!list.IsSequence() && !list.IsScalar()) src_.fail(n, "days must be a list like [mon-fri, sat]");
    uint8_t mask = 0;
    auto add = [&](const YAML::Node& e) {
      const std::string s = nonempty(e, "days");
      const size_t dash = s.find('-');
      if (dash == std::string::npos) {
        mask |= static_cast<uint8_t>(1u << index(s, e));
        return;
      }
      // Ranges run Monday..Sunday: mon-fri, sat-sun.
      auto mon_based = [](int i) { return (i + 6) % 7; };
      const int a = mon_based(index(std::string_view(s).substr(0, dash), e));
      const int b = mon_based(index(std::string_view(s).substr(dash + 1), e));
      if (a > b) src_.fail(e, "days: a range runs from Monday towards Sunday, like mon-fri");
      for (int i = a; i <= b; ++i) mask |= static_cast<uint8_t>(1u << ((i + 1) % 7));
    };
    if (list.IsScalar())
      add(list);
    else
      for (const YAML::Node& e : list) add(e);
    if (mask == 0) src_.fail(n, "days must name at least one day");
    return mask;
  }

  // ---------------------------------------------------------------- test cases

  /// Typed YAML -> JSON without any ${...} expansion (test data is literal).
  Json data(const YAML::Node& n) const {
    switch (n.Type()) {
      case YAML::NodeType::Scalar:
        return typed_scalar(n);
      case YAML::NodeType::Sequence: {
        Json a = Json::array();
        for (const YAML::Node& e : n) a.push_back(data(e));
        return a;
      }
      case YAML::NodeType::Map: {
        Json o = Json::object();
        for (const auto& kv : n) {
          const std::string k = str(kv.first, "keys");
          if (o.contains(k)) src_.fail(kv.first, "duplicate key '" + k + "'");
          o[k] = data(kv.second);
        }
        return o;
      }
      default:
        return nullptr;
    }
  }

  /// The time of an item: at (RFC 3339), days_ago (number) or ago (duration); default: the case time.
  TimeMs item_time(const YAML::Node& n, TimeMs case_at, const std::string& what) const {
    const YAML::Node at = n["at"], days = n["days_ago"], ago = n["ago"];
    if ((at ? 1 : 0) + (days ? 1 : 0) + (ago ? 1 : 0) > 1)
      src_.fail(n, what + ": give only one of at, days_ago and ago");
    if (at) return timestamp(at, "at");
    if (ago) return case_at - duration(ago, "ago");
    if (days) {
      const Json j = days.IsScalar() ? typed_scalar(days) : Json();
      if (!j.is_number() || j.get<double>() < 0 || j.get<double>() > 36500)
        src_.fail(days, "days_ago must be a number of days (0 to 36500), fractions allowed");
      return case_at - static_cast<TimeMs>(j.get<double>() * static_cast<double>(kDayMs) + 0.5);
    }
    return case_at;
  }

  void check_attribute_values(const YAML::Node& n, const Json& attrs) const {
    if (!rb_.schema.attributes_declared) return;
    for (const auto& kv : n) {
      const std::string& k = kv.first.Scalar();
      auto it = rb_.schema.attributes.find(k);
      if (it == rb_.schema.attributes.end())
        src_.fail(kv.first, "attribute '" + k + "' is not declared under attributes:");
      const Json& v = attrs[k];
      bool ok = true;
      switch (it->second) {
        case AttrType::Any:
          break;
        case AttrType::String:
          ok = v.is_string();
          break;
        case AttrType::Number:
          ok = v.is_number();
          break;
        case AttrType::Bool:
          ok = v.is_boolean();
          break;
        case AttrType::List:
          ok = v.is_array();
          break;
        case AttrType::Object:
          ok = v.is_object();
          break;
      }
      if (!ok && !v.is_null())
        src_.fail(kv.second, "attribute '" + k + "' is declared as " + attr_type_name(it->second));
    }
  }

  void customer(const YAML::Node& n, TestCase& tc) const {
    CustomerSnapshot& s = tc.customer;
    for (const std::string& ch : rb_.channels) s.channels[ch] = ChannelState{true, true, "", 0};
    if (!n || n.IsNull()) return;
    check_keys(n, std::span(kCustomerKeys), {}, "customer");
    if (const YAML::Node id = n["profile_id"]) s.profile_id = get_int(id, src_, "profile_id", 0, INT64_MAX);
    if (const YAML::Node a = n["attributes"]) {
      if (!a.IsMap()) src_.fail(a, "attributes must be a mapping");
      s.attributes = data(a);
      check_attribute_values(a, s.attributes);
    }
    if (const YAML::Node cs = n["consents"]) {
      if (!cs.IsSequence()) src_.fail(cs, "consents must be a list of {channel, purpose, status}");
      for (const YAML::Node& c : cs) {
        check_keys(c, std::span(kConsentItemKeys), {}, "consent");
        if (!c["channel"] || !c["status"]) src_.fail(c, "a consent needs channel and status");
        ConsentState st;
        st.status = str(c["status"], "status");
        if (st.status != "granted" && st.status != "denied" && st.status != "revoked")
          src_.fail(c["status"], "status must be granted, denied or revoked");
        st.at = item_time(c, tc.proposal.at, "consent");
        if (const YAML::Node src = c["source"]) st.source = str(src, "source");
        const std::string purpose = c["purpose"] ? nonempty(c["purpose"], "purpose") : "marketing";
        check_purpose(c["purpose"] ? c["purpose"] : c, purpose, "purpose");
        const ChannelMask m = channel_mask(c["channel"], "channel");
        for (size_t i = 0; i < rb_.channels.size(); ++i)
          if (m & (ChannelMask{1} << i)) s.consents[{rb_.channels[i], purpose}] = st;
      }
    }
    if (const YAML::Node chs = n["channels"]) {
      if (!chs.IsMap()) src_.fail(chs, "channels must be a mapping like {email: invalid, post: missing}");
      for (const auto& kv : chs) {
        const int i = channel(kv.first, "channels");
        ChannelState st{true, true, "", 0};
        const YAML::Node v = kv.second;
        if (v.IsScalar()) {
          const std::string s2 = v.Scalar();
          if (s2 == "invalid")
            st.valid = false;
          else if (s2 == "missing")
            st.has_address = false;
          else if (s2 != "valid")
            src_.fail(v, "a channel is valid, invalid or missing (or a mapping {address, valid, reason, since})");
        } else {
          check_keys(v, std::span(kChannelStateKeys), {}, "channel state");
          if (const YAML::Node a = v["address"]) st.has_address = boolean(a, "address");
          if (const YAML::Node a = v["valid"]) st.valid = boolean(a, "valid");
          if (const YAML::Node a = v["reason"]) st.invalid_reason = str(a, "reason");
          if (const YAML::Node a = v["since"]) st.invalid_since = timestamp(a, "since");
        }
        s.channels[rb_.channels[static_cast<size_t>(i)]] = st;
      }
    }
    if (const YAML::Node es = n["events"]) {
      if (!es.IsSequence()) src_.fail(es, "events must be a list of {event_type, days_ago | at | ago, ...}");
      for (const YAML::Node& e : es) {
        check_keys(e, std::span(kEventKeys), {}, "event");
        if (!e["event_type"]) src_.fail(e, "an event needs event_type");
        EventFact f;
        f.event_type = nonempty(e["event_type"], "event_type");
        f.at = item_time(e, tc.proposal.at, "event");
        if (const YAML::Node x = e["channel"]) f.channel = str(x, "channel");
        if (const YAML::Node x = e["purpose"]) f.purpose = str(x, "purpose");
        if (const YAML::Node x = e["product"]) f.product = str(x, "product");
        if (const YAML::Node x = e["category"]) f.category = str(x, "category");
        if (const YAML::Node x = e["campaign"]) f.campaign = str(x, "campaign");
        s.events.push_back(std::move(f));
      }
      std::stable_sort(s.events.begin(), s.events.end(),
                       [](const EventFact& a, const EventFact& b) { return a.at > b.at; });
    }
    if (const YAML::Node ss = n["suppressions"]) {
      if (!ss.IsSequence()) src_.fail(ss, "suppressions must be a list of {list, reason, channels, until}");
      for (const YAML::Node& e : ss) {
        check_keys(e, std::span(kSuppressionItemKeys), {}, "suppression");
        if (!e["list"]) src_.fail(e, "a suppression needs list");
        SuppressionFact f;
        f.list = nonempty(e["list"], "list");
        if (const YAML::Node x = e["reason"]) f.reason = str(x, "reason");
        if (const YAML::Node x = e["channels"]) {
          const ChannelMask m = channel_mask(x, "channels");
          for (size_t i = 0; i < rb_.channels.size(); ++i)
            if (m & (ChannelMask{1} << i)) f.channels.push_back(rb_.channels[i]);
        }
        if (e["until"] && e["until_days"]) src_.fail(e, "give until or until_days, not both");
        if (const YAML::Node x = e["until"]) f.until = timestamp(x, "until");
        if (const YAML::Node x = e["until_days"]) {
          const Json j = x.IsScalar() ? typed_scalar(x) : Json();
          if (!j.is_number() || j.get<double>() == 0 || std::abs(j.get<double>()) > 36500)
            src_.fail(x, "until_days must be a non-zero number of days from the case time (negative: expired)");
          f.until = tc.proposal.at + static_cast<TimeMs>(j.get<double>() * static_cast<double>(kDayMs));
        }
        s.suppressions.push_back(std::move(f));
      }
    }
  }

  std::vector<ExpectedReason> expected_reasons(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) src_.fail(n, what + " must be a list of codes or {code, rule, channel}");
    std::vector<ExpectedReason> out;
    for (const YAML::Node& e : n) {
      ExpectedReason r;
      if (e.IsScalar()) {
        r.code = nonempty(e, "code");
      } else {
        check_keys(e, std::span(kExpectedReasonKeys), {}, "expected reason");
        if (!e["code"]) src_.fail(e, "an expected reason needs code");
        r.code = nonempty(e["code"], "code");
        if (const YAML::Node x = e["rule"]) {
          r.rule = nonempty(x, "rule");
          const bool known =
              std::any_of(rb_.rules.begin(), rb_.rules.end(), [&](const Rule& rr) { return rr.name == r.rule; });
          if (!known) src_.fail(x, "no rule is named '" + r.rule + "'");
        }
        if (const YAML::Node x = e["channel"]) r.channel = rb_.channels[static_cast<size_t>(channel(x, "channel"))];
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  void test_case(const YAML::Node& n) {
    if (!n.IsMap()) src_.fail(n, "each test case must be a mapping with name, at, customer, proposal and expect");
    check_keys(n, std::span(kCaseKeys), {}, "test case");
    TestCase tc;
    if (!n["name"]) src_.fail(n, "test case without a name");
    tc.name = nonempty(n["name"], "name");
    tc.line = n.Mark().line + 1;
    const std::string where = "test case '" + tc.name + "'";
    if (!n["at"]) src_.fail(n, where + " needs at: (the decision time, RFC 3339)");
    tc.proposal.at = timestamp(n["at"], "at");
    if (const YAML::Node u = n["unknown"]) tc.unknown = boolean(u, "unknown");
    if (tc.unknown && n["customer"]) src_.fail(n["customer"], where + ": an unknown customer has no customer data");
    if (!tc.unknown) customer(n["customer"], tc);

    const YAML::Node p = n["proposal"];
    if (!p) src_.fail(n, where + " needs a proposal: {channel, purpose, ...}");
    check_keys(p, std::span(kProposalKeys), {}, "proposal");
    if (!p["channel"]) src_.fail(p, "the proposal needs a channel");
    tc.proposal.channel = str(p["channel"], "channel");
    if (tc.proposal.channel != "best") (void)channel(p["channel"], "channel");
    if (const YAML::Node x = p["purpose"]) tc.proposal.purpose = nonempty(x, "purpose");
    check_purpose(p["purpose"] ? p["purpose"] : p, tc.proposal.purpose, "purpose");
    if (const YAML::Node x = p["customer"]) tc.proposal.customer = str(x, "customer");
    if (const YAML::Node x = p["campaign"]) tc.proposal.campaign = str(x, "campaign");
    if (const YAML::Node x = p["offer"]) tc.proposal.offer = str(x, "offer");
    if (const YAML::Node x = p["offer_category"]) tc.proposal.offer_category = str(x, "offer_category");
    if (const YAML::Node x = p["transactional"]) tc.proposal.transactional = boolean(x, "transactional");

    const YAML::Node e = n["expect"];
    if (!e) src_.fail(n, where + " needs expect: {decision: send|suppress, ...}");
    check_keys(e, std::span(kExpectKeys), {}, "expect");
    if (!e["decision"]) src_.fail(e, "expect needs decision: send or suppress");
    const std::string d = str(e["decision"], "decision");
    if (d != "send" && d != "suppress") src_.fail(e["decision"], "decision must be send or suppress");
    tc.expect_send = d == "send";
    if (const YAML::Node x = e["channel"]) {
      tc.check_channel = true;
      tc.expect_channel = str(x, "channel");
      if (!tc.expect_channel.empty()) (void)channel(x, "channel");
    }
    if (const YAML::Node x = e["reasons"]) {
      tc.check_reasons = true;
      tc.reasons = expected_reasons(x, "reasons");
      if (tc.expect_send && !tc.reasons.empty()) src_.fail(x, "a send has no blocking reasons (use notes:)");
    } else if (tc.expect_send) {
      tc.check_reasons = true;  // send means: no blocking reasons
    }
    if (const YAML::Node x = e["notes"]) {
      tc.check_notes = true;
      tc.notes = expected_reasons(x, "notes");
    }
    if (const YAML::Node x = e["ordered"]) tc.ordered = boolean(x, "ordered");
    rb_.tests.push_back(std::move(tc));
  }

  ConfigSource src_;
  const std::string& text_;
  Rulebook::Impl& rb_;
  std::vector<size_t> line_starts_;
  const date::time_zone* default_tz_ = nullptr;
};

}  // namespace

Rulebook Rulebook::load(const fs::path& file) {
  // The version is the hash of exactly the bytes that were parsed: read,
  // parse, read again, and retry if the file changed in between.
  for (int attempt = 0;; ++attempt) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw ConfigError(file.string(), 0, 0, "cannot read file");
    const std::string before = read_bytes(file);
    const YAML::Node root = load_yaml_file(file);
    const std::string after = read_bytes(file);
    if (before != after) {
      if (attempt < 3) continue;
      throw ConfigError(file.string(), 0, 0, "the file keeps changing while it is being read");
    }
    auto impl = std::make_shared<Impl>();
    impl->file = file.string();
    impl->version = sha256_version(before);
    Loader loader(file, before, *impl);
    loader.load(root);
    return Rulebook(std::move(impl));
  }
}

}  // namespace touchpoint::core::rules
