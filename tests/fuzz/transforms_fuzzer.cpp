// Every built-in transform (core/transform/*, as make_step builds them from
// YAML) over arbitrary records, alone and chained by run_steps
// (core/pipeline/step_runner.*).
//
// Input: a byte with the number of steps (1-4) and the envelope options, one
// byte per step choosing from the table below, then the record data: JSON
// (what simdjson accepts as an object, as validate_record demands, parsed by
// nlohmann as the applier does), or else the text's lines become the values
// of email, phone, name, ... so short inputs reach every step.
//
// Invariants:
//  - no step crashes; run_steps turns whatever a step throws into a reject,
//    so nothing escapes it (a step that throws is logged, not fatal);
//  - a kept record's data and meta stay JSON objects, meta/source/ts are
//    untouched by every step, and the envelope serializes (no invalid UTF-8
//    slipped in) and reads back with record_from_json;
//  - filter and require never change the record;
//  - every kind but hash is idempotent: running a step again on what it kept
//    keeps it and changes nothing;
//  - per kind: normalize_email keeps lower-case, trimmed addresses;
//    normalize_phone writes "+<digits>"; hash writes lower-case hex of the
//    digest's length; mask keeps the code point count; remove leaves none of
//    its paths; keep leaves nothing outside its paths; set/default write
//    their values;
//  - running the same pipeline on the same record twice gives the same
//    outcome (the phone cache must not change results).
#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "fuzz_util.hpp"
#include "pipeline/step_runner.hpp"
#include "record/record.hpp"
#include "transform/field_path.hpp"
#include "transform/transform.hpp"

using namespace touchpoint::core;
using touchpoint::core::transform::FieldPath;

namespace {

struct StepDef {
  const char* yaml;
};

// A few option sets per kind (registry.cpp), with the fields the fallback record fills.
constexpr StepDef kSteps[] = {
    {"rename: { mail: email, tel: phone }"},
    {"rename: { name: full_name, customer_id: '@key' }"},
    {"rename: { a.b: c, kind: '@type', ref: '@id' }"},
    {"rename: { phone: contact.phone.main }"},
    {"set: { channel: web, '@type': profile, address.country: DE }"},
    {"set: { flags.vip: true, score: 1.5, tags: [a, b], nested: { x: null } }"},
    {"default: { channel: callcenter, '@key': none, address.city: Berlin }"},
    {"default: { status: active, age: 0 }"},
    {"remove: [password, address.zip, email]"},
    {"keep: [email, phone, address.city, name]"},
    {"keep: [consent.email, customer_id, a]"},
    {"normalize_email: { field: email }"},
    {"normalize_email: { field: email, on_invalid: remove }"},
    {"normalize_email: { field: contact.email, on_invalid: keep }"},
    {"normalize_phone: { field: phone, default_region: DE }"},
    {"normalize_phone: { field: phone, on_invalid: remove }"},
    {"normalize_phone: { field: mobile, default_region: US, on_invalid: keep }"},
    {"require: { fields: [email, '@id'] }"},
    // The widely copied e-mail pattern (OWASP's ReDoS example) and other realistic rules.
    {"require: { fields: { email: { type: string, regex: "
     "'^([a-zA-Z0-9_.+-])+@(([a-zA-Z0-9-])+\\.)+([a-zA-Z0-9]{2,4})+$' },"
     " age: { type: integer } } }"},
    {"require: { fields: { '@key': { regex: '^C-[0-9]+$' }, status: { enum: [active, inactive, 1] } } }"},
    {"require: { fields: { name: { type: string, regex: '^[A-Za-z ]+$' } } }"},
    {"filter: { field: country, op: eq, value: DE }"},
    {"filter: { field: age, op: ge, value: 18, action: reject }"},
    {"filter: { field: email, op: regex, value: '@example\\.(com|de)$' }"},
    {"filter: { field: '@type', op: in, value: [profile, event] }"},
    {"filter: { field: status, op: not_in, value: [deleted, null, 0] }"},
    {"filter: { field: phone, op: missing }"},
    {"filter: { field: name, op: regex, value: '^(\\w+\\s?)*$' }"},
    {"hash: { fields: [email, phone], algorithm: sha256, salt: s3cr3t }"},
    {"hash: { fields: [customer_id, age], algorithm: md5 }"},
    {"mask: { fields: [phone], keep_last: 4 }"},
    {"mask: { fields: [name, iban, age], keep_first: 2, keep_last: 2, char: '\xE2\x80\xA2' }"},
};
constexpr size_t kStepCount = sizeof(kSteps) / sizeof(kSteps[0]);

struct Built {
  std::string kind;
  YAML::Node options;
  Step step;
};

std::vector<Built>& steps() {
  static std::vector<Built> all = [] {
    std::vector<Built> out;
    ConfigSource src("fuzz-steps.yaml");
    for (size_t i = 0; i < kStepCount; ++i) {
      YAML::Node item = YAML::Load(kSteps[i].yaml);
      Built b;
      b.kind = item.begin()->first.Scalar();
      b.options = item.begin()->second;
      try {
        b.step = make_step(item, i, src);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "harness step %zu does not build: %s\n", i, e.what());
        std::abort();
      }
      out.push_back(std::move(b));
    }
    return out;
  }();
  return all;
}

std::vector<FieldPath> paths_of(const YAML::Node& list) {
  std::vector<FieldPath> out;
  for (const auto& item : list) out.push_back(FieldPath::parse(item.Scalar()));
  return out;
}

bool same_record(const Record& a, const Record& b) {
  return a.id == b.id && a.type == b.type && a.source == b.source && a.key == b.key && a.ts_ms == b.ts_ms &&
         a.data == b.data && a.meta == b.meta;
}

std::string brief(const Record& r) {
  std::string s;
  try {
    s = to_json(r).dump();
  } catch (const std::exception& e) {
    s = std::string("<not serializable: ") + e.what() + ">";
  }
  return s.size() > 400 ? s.substr(0, 400) + "..." : s;
}

void log_throw_once(const std::string& kind, const char* what) {
  static std::set<std::string> seen;
  std::string key = kind + ": " + what;
  if (seen.size() < 50 && seen.insert(key).second)
    std::fprintf(stderr, "NOTE: step %s threw: %s\n", kind.c_str(), what);
}

bool is_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Is every value in `data` inside one of the kept paths?
bool only_kept(const Json& data, const std::vector<FieldPath>& kept, std::vector<std::string>& prefix) {
  for (auto it = data.begin(); it != data.end(); ++it) {
    prefix.push_back(it.key());
    bool whole = false, partial = false;
    for (const FieldPath& k : kept) {
      const auto& seg = k.segments();
      bool match = seg.size() >= prefix.size();
      for (size_t i = 0; match && i < prefix.size(); ++i) match = seg[i] == prefix[i];
      if (match && seg.size() == prefix.size()) whole = true;
      if (match && seg.size() > prefix.size()) partial = true;
    }
    bool ok = whole || (partial && it->is_object() && !it->empty() && only_kept(*it, kept, prefix));
    prefix.pop_back();
    if (!ok) return false;
  }
  return true;
}

// Runs one step on a copy of `in` and checks what its kind promises.
void check_step(const Built& b, const Record& in) {
  Record r = in;
  StepResult res;
  try {
    res = b.step.transform->apply(r);
  } catch (const std::exception& e) {
    log_throw_once(b.kind, e.what());
    return;
  }
  const auto keep = StepResult::Kind::keep;
  FUZZ_CHECK(r.meta == in.meta && r.source == in.source && r.ts_ms == in.ts_ms, "%s changed meta/source/ts",
             b.kind.c_str());
  FUZZ_CHECK(r.data.is_object(), "%s left data that is not an object: %s", b.kind.c_str(), brief(r).c_str());
  if (res.kind != keep) FUZZ_CHECK(!res.reason.empty(), "%s: drop/reject without a reason", b.kind.c_str());
  if (b.kind == "filter" || b.kind == "require")
    FUZZ_CHECK(same_record(r, in), "%s changed the record: %s", b.kind.c_str(), brief(r).c_str());
  if (res.kind != keep) return;

  if (b.kind != "hash") {
    Record twice = r;
    StepResult again;
    try {
      again = b.step.transform->apply(twice);
    } catch (const std::exception& e) {
      FUZZ_CHECK(false, "%s threw on its own output: %s", b.kind.c_str(), e.what());
    }
    FUZZ_CHECK(again.kind == keep && same_record(twice, r), "%s is not idempotent (%s): %s -> %s -> %s", b.kind.c_str(),
               again.reason.c_str(), brief(in).c_str(), brief(r).c_str(), brief(twice).c_str());
  }

  const YAML::Node& o = b.options;
  if (b.kind == "normalize_email") {
    const FieldPath f = FieldPath::parse(o["field"].Scalar());
    const Json* before = f.find(in.data);
    const Json* after = f.find(r.data);
    if (before != nullptr && before->is_string() && after != nullptr && *after != *before) {
      const std::string& v = after->get_ref<const std::string&>();
      for (char c : v)
        FUZZ_CHECK(!(c >= 'A' && c <= 'Z') && c != ' ' && c != '\t', "email not normalized: '%s'", v.c_str());
      FUZZ_CHECK(v.find('@') != std::string::npos && v.size() <= 254, "kept email '%s'", v.c_str());
    }
  } else if (b.kind == "normalize_phone") {
    const FieldPath f = FieldPath::parse(o["field"].Scalar());
    const Json* before = f.find(in.data);
    const Json* after = f.find(r.data);
    if (before != nullptr && after != nullptr && *after != *before) {
      FUZZ_CHECK(after->is_string(), "phone is not a string");
      const std::string& v = after->get_ref<const std::string&>();
      bool e164 = v.size() >= 2 && v.size() <= 16 && v[0] == '+';
      for (size_t i = 1; e164 && i < v.size(); ++i) e164 = v[i] >= '0' && v[i] <= '9';
      FUZZ_CHECK_KNOWN("phone-longer-than-e164", e164, "normalized phone '%s' (from '%s') is not E.164", v.c_str(),
                       before->is_string() ? before->get_ref<const std::string&>().c_str() : "?");
    }
  } else if (b.kind == "hash" || b.kind == "mask") {
    const std::string algo = o["algorithm"] ? o["algorithm"].Scalar() : "sha256";
    for (const FieldPath& f : paths_of(o["fields"])) {
      const Json* before = f.find(in.data);
      const Json* after = f.find(r.data);
      if (before == nullptr || before->is_null()) {
        FUZZ_CHECK((after == nullptr) == (before == nullptr), "%s created '%s'", b.kind.c_str(), f.text().c_str());
        continue;
      }
      FUZZ_CHECK(after != nullptr && after->is_string(), "%s: '%s' is not a string after", b.kind.c_str(),
                 f.text().c_str());
      const std::string& v = after->get_ref<const std::string&>();
      if (b.kind == "hash") {
        FUZZ_CHECK(is_hex(v) && v.size() == (algo == "md5" ? 32u : 64u), "hash of '%s' is '%s'", f.text().c_str(),
                   v.c_str());
      } else {
        std::string text = before->is_string() ? before->get<std::string>() : before->dump();
        FUZZ_CHECK(code_points(v) == code_points(text), "mask changed the length of '%s': '%s' -> '%s'",
                   f.text().c_str(), text.c_str(), v.c_str());
      }
    }
  } else if (b.kind == "remove") {
    for (const FieldPath& f : paths_of(o)) FUZZ_CHECK(f.find(r.data) == nullptr, "remove left '%s'", f.text().c_str());
  } else if (b.kind == "keep") {
    std::vector<std::string> prefix;
    FUZZ_CHECK(only_kept(r.data, paths_of(o), prefix), "keep left other fields: %s", brief(r).c_str());
  } else if (b.kind == "set" || b.kind == "default") {
    for (const auto& kv : o) {
      const FieldPath f = FieldPath::parse(kv.first.Scalar());
      if (f.is_envelope()) {
        const std::string& now = f.envelope_field(r);
        const std::string& was = f.envelope_field(in);
        FUZZ_CHECK(now == (b.kind == "set" || was.empty() ? kv.second.Scalar() : was), "%s %s", b.kind.c_str(),
                   f.text().c_str());
        continue;
      }
      const Json* now = f.find(r.data);
      const Json* was = f.find(in.data);
      FUZZ_CHECK(now != nullptr, "%s did not write '%s'", b.kind.c_str(), f.text().c_str());
      if (b.kind == "default" && was != nullptr && !was->is_null())
        FUZZ_CHECK(*now == *was, "default overwrote '%s'", f.text().c_str());
    }
  }
}

// The record from the input (see the header comment).
bool make_record(std::string_view text, uint8_t env, Record& r) {
  r.id = "rec-1";
  r.type = (env & 1) ? "profile" : "event";
  r.source = "fuzz";
  r.key = (env & 2) ? "C-1001" : "";
  r.ts_ms = 1'700'000'000'000;
  r.meta = (env & 4) ? Json{{"file", "x.csv"}, {"line", 3}} : Json::object();
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) == simdjson::SUCCESS) {
    if (!root.is_object()) return false;  // validate_record refuses it
    r.data = Json::parse(text, nullptr, false);
    // nlohmann must read what simdjson accepted (the applier relies on it).
    FUZZ_CHECK(!r.data.is_discarded() && r.data.is_object(), "nlohmann cannot parse a record simdjson accepted: %.*s",
               static_cast<int>(std::min<size_t>(text.size(), 200)), text.data());
    return true;
  }
  // Lines as values; only valid UTF-8 reaches transforms (validate_record).
  if (!simdjson::validate_utf8(text.data(), text.size())) return false;
  static const char* kFields[] = {"email",  "phone", "name", "mobile", "customer_id", "iban", "country",
                                  "status", "age",   "mail", "tel",    "kind",        "ref",  "password"};
  r.data = Json::object();
  size_t pos = 0;
  for (const char* field : kFields) {
    if (pos > text.size()) break;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string value(text.substr(pos, end - pos));
    if (std::string_view(field) == "age" && !value.empty() &&
        value.find_first_not_of("0123456789") == std::string::npos && value.size() < 10)
      r.data[field] = std::stoi(value);
    else
      r.data[field] = value;
    pos = end + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::vector<Built>& all = steps();
  const uint8_t head = data[0];
  const size_t n = 1 + (head & 3);
  if (size < 1 + n) return 0;
  std::vector<size_t> chosen;
  for (size_t i = 0; i < n; ++i) chosen.push_back(data[1 + i] % kStepCount);
  Record in;
  if (!make_record(std::string_view(reinterpret_cast<const char*>(data) + 1 + n, size - 1 - n), head >> 2, in))
    return -1;

  for (size_t i : chosen) check_step(all[i], in);

  Pipeline p;
  p.name = "fuzz";
  p.record_budget = std::chrono::milliseconds(60'000);  // libFuzzer's -timeout is the limit here
  for (size_t i : chosen) {
    // Steps are move-only; borrow the transforms through a forwarding step.
    struct Borrow final : Transform {
      const Transform* t;
      explicit Borrow(const Transform* x) : t(x) {}
      StepResult apply(Record& r) const override { return t->apply(r); }
    };
    p.steps.push_back(Step{all[i].kind, all[i].step.name, std::make_unique<Borrow>(all[i].step.transform.get())});
  }
  Record r1 = in, r2 = in;
  StepOutcome o1 = run_steps(p, r1);
  StepOutcome o2 = run_steps(p, r2);
  FUZZ_CHECK(o1.kind == o2.kind && o1.step_index == o2.step_index && o1.reason == o2.reason && o1.code == o2.code,
             "the same record gave different outcomes: '%s' vs '%s'", o1.reason.c_str(), o2.reason.c_str());
  FUZZ_CHECK(same_record(r1, r2), "the same record came out different");
  if (o1.kind != StepResult::Kind::keep) {
    FUZZ_CHECK(o1.step_index < p.steps.size() && !o1.reason.empty(), "outcome without a step or reason");
    FUZZ_CHECK(o1.code == "rejected" || o1.code == "too_large" || o1.code == "timeout", "code '%s'", o1.code.c_str());
    return 0;
  }
  FUZZ_CHECK(r1.data.is_object() && r1.meta.is_object(), "kept record data/meta is not an object");
  std::string envelope;
  try {
    envelope = to_json(r1).dump();
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "kept record does not serialize (%s): id='%s' type='%s' key='%s'", e.what(), r1.id.c_str(),
               r1.type.c_str(), r1.key.c_str());
  }
  Json back = Json::parse(envelope);
  if (!r1.id.empty()) {
    Record again = record_from_json(back);
    FUZZ_CHECK(same_record(again, r1), "envelope does not read back");
  }
  return 0;
}
