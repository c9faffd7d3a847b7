// Every built-in step on hostile but well-formed records: values as large as
// a record may carry (16 MiB strings), objects of 100,000 keys, 1000 levels
// of nesting, long arrays and odd Unicode. Each step must give the right
// result and stay linear, which a generous time bound checks (kStepSeconds:
// the point is to catch minutes, not microseconds).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

constexpr size_t kHuge = size_t{16} << 20;  // record data is at most 16 MiB
constexpr size_t kKeys = 100'000;
constexpr int kDepth = 1000;  // records nest up to 1024 levels
constexpr size_t kItems = 200'000;

Json long_list() { return Json(std::vector<int>(kItems, 7)); }

/// {"k0": 0, ..., "k99999": 99999}
Json many_keys() {
  Json o = Json::object();
  for (size_t i = 0; i < kKeys; ++i) o["k" + std::to_string(i)] = i;
  return o;
}

/// {"a": {"a": ... {"a": leaf}}} with `depth` levels of "a".
Json nested(int depth, Json leaf) {
  for (int i = 0; i < depth; ++i) {
    Json o = Json::object();
    o["a"] = std::move(leaf);
    leaf = std::move(o);
  }
  return leaf;
}

/// "a.a.a" with `depth` segments.
std::string deep_path(int depth) {
  std::string out = "a";
  for (int i = 1; i < depth; ++i) out += ".a";
  return out;
}

/// The value under `depth` levels of "a", or nullptr.
const Json* dive(const Json& j, int depth) {
  const Json* node = &j;
  for (int i = 0; i < depth; ++i) {
    if (!node->is_object() || !node->contains("a")) return nullptr;
    node = &(*node)["a"];
  }
  return node;
}

Record with(Json data) {
  Record r = record("{}");
  r.data = std::move(data);
  return r;
}

/// apply_coded within the time bound.
std::string timed(const Step& step, Record& r) {
  std::string result;
  const double s = seconds([&] { result = apply_coded(step, r); });
  EXPECT_LT(s, kStepSeconds) << step.name << " took " << s << " s";
  return result;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The kinds the tests below cover; a new kind needs its own hostile inputs here.
TEST(Limits, EveryKindIsCovered) {
  const std::set<std::string> covered{"default",         "filter",          "hash",   "keep",   "lua",     "mask",
                                      "normalize_email", "normalize_phone", "remove", "rename", "require", "set"};
  const std::vector<std::string> kinds = transform_kinds();
  EXPECT_EQ(std::set<std::string>(kinds.begin(), kinds.end()), covered);
}

TEST(Limits, NormalizePhoneRefusesOverlongValuesWithoutParsing) {
  Step s = make("normalize_phone: { field: phone, default_region: DE }");
  const std::string p = "invalid phone number in 'phone': ";
  // libphonenumber needs minutes for 5 MB of digits: it must never see them.
  for (size_t n : {size_t{65}, size_t{5'000'000}, kHuge}) {
    Record r = with({{"phone", std::string(n, '1')}});
    EXPECT_EQ(timed(s, r), "too_large: " + p + "longer than 64 bytes") << n;
    EXPECT_EQ(r.data["phone"].get_ref<const std::string&>().size(), n);  // as it was, for the dead-letter store
  }
  Record comma = with({{"phone", std::string(kHuge, ',')}});
  EXPECT_EQ(timed(s, comma), "too_large: " + p + "longer than 64 bytes");
  // 64 bytes still go to libphonenumber.
  Record limit = with({{"phone", std::string(64, '1')}});
  EXPECT_EQ(timed(s, limit), "rejected: " + p + "too long");
  // Surrounding whitespace does not count.
  Record padded = with({{"phone", std::string(1000, ' ') + "0170 1234567" + std::string(kHuge, '\t')}});
  EXPECT_EQ(timed(s, padded), "keep");
  EXPECT_EQ(padded.data["phone"], "+491701234567");
  // Full-width digits take 3 bytes each and still fit.
  Record wide = with({{"phone", "０１７０ １２３４５６７"}});
  EXPECT_EQ(timed(s, wide), "keep");
  EXPECT_EQ(wide.data["phone"], "+491701234567");
  Record too_wide = with({{"phone", "＋４９ （０）１７０ １２３４５６７ ／ １２３４"}});  // 25 characters, 67 bytes
  EXPECT_EQ(timed(s, too_wide), "too_large: " + p + "longer than 64 bytes");
}

TEST(Limits, NormalizePhoneOnInvalidAppliesToOverlongValues) {
  Step remove = make("normalize_phone: { field: phone, default_region: DE, on_invalid: remove }");
  Record r = with({{"phone", std::string(kHuge, '1')}, {"x", 1}});
  EXPECT_EQ(timed(remove, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"x": 1})"));
  Step keep = make("normalize_phone: { field: phone, default_region: DE, on_invalid: keep }");
  Record k = with({{"phone", std::string(kHuge, '1')}});
  EXPECT_EQ(timed(keep, k), "keep");
  EXPECT_EQ(k.data["phone"].get_ref<const std::string&>().size(), kHuge);
}

TEST(Limits, NormalizeEmailRefusesAddressesOver254Bytes) {
  Step s = make("normalize_email: { field: email }");
  const std::string p = "invalid email in 'email': ";
  for (size_t n : {size_t{255}, kHuge}) {
    Record r = with({{"email", std::string(n - 6, 'a') + "@ex.de"}});
    EXPECT_EQ(timed(s, r), "too_large: " + p + "longer than 254 bytes") << n;
  }
  for (char c : {'@', '.', 'A', ','}) {
    Record r = with({{"email", std::string(kHuge - 1, c) + "x"}});
    EXPECT_EQ(timed(s, r), "too_large: " + p + "longer than 254 bytes") << c;
  }
  // Bytes, not characters: 124 two-byte letters and "@ex.de" are 254 bytes.
  std::string umlauts;
  for (int i = 0; i < 124; ++i) umlauts += "ü";
  Record fits = with({{"email", umlauts + "@ex.de"}});
  EXPECT_EQ(timed(s, fits), "keep");
  Record over = with({{"email", umlauts + "ü@ex.de"}});
  EXPECT_EQ(timed(s, over), "too_large: " + p + "longer than 254 bytes");
  // Whitespace around the address does not count, however much of it there is.
  Record padded = with({{"email", std::string(kHuge / 2, ' ') + "Max@Example.DE" + std::string(kHuge / 2, '\n')}});
  EXPECT_EQ(timed(s, padded), "keep");
  EXPECT_EQ(padded.data["email"], "max@example.de");
  // on_invalid applies.
  Step remove = make("normalize_email: { field: email, on_invalid: remove }");
  Record r = with({{"email", std::string(kHuge, 'a')}, {"x", 1}});
  EXPECT_EQ(timed(remove, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"x": 1})"));
}

TEST(Limits, NormalizeStepsRejectHugeValuesOfOtherTypesQuickly) {
  Step email = make("normalize_email: { field: v }");
  Step phone = make("normalize_phone: { field: v }");
  Record object = with({{"v", many_keys()}});
  EXPECT_EQ(timed(email, object), "rejected: invalid email in 'v': not a string but object");
  EXPECT_EQ(timed(phone, object), "rejected: invalid phone number in 'v': not a string but object");
  Record deep = with({{"v", nested(kDepth, 1)}});
  EXPECT_EQ(timed(email, deep), "rejected: invalid email in 'v': not a string but object");
  Record array = with({{"v", long_list()}});
  EXPECT_EQ(timed(phone, array), "rejected: invalid phone number in 'v': not a string but array");
}

TEST(Limits, RegexOnHugeValuesIsLinearOrRefused) {
  Step filter = make(R"(filter: { field: s, op: regex, value: "(a+)+$" })");
  Step require = make(R"(require: { fields: { s: { regex: "^(a|aa)+$" } } })");
  const std::string mib(size_t{1} << 20, 'a');
  Record all_a = with({{"s", mib}});
  EXPECT_EQ(timed(filter, all_a), "keep");
  EXPECT_EQ(timed(require, all_a), "keep");
  // The classic exponential case for backtracking matchers.
  Record bang = with({{"s", mib + "!"}});
  EXPECT_EQ(timed(filter, bang), "drop: filter not matched: s regex \"(a+)+$\"");
  EXPECT_EQ(timed(require, bang), "rejected: field 's' does not match regex '^(a|aa)+$'");
  // Longer than the pattern can be checked against in bounded time: refused,
  // whatever the filter's action (dropping could lose a record that matches).
  Record huge = with({{"s", std::string(kHuge, 'a')}});
  const std::string f = timed(filter, huge);
  EXPECT_TRUE(starts_with(f, "too_large: filter cannot test s: the value is longer than the ")) << f;
  EXPECT_NE(f.find(" bytes regex '(a+)+$' can check"), std::string::npos) << f;
  const std::string q = timed(require, huge);
  EXPECT_TRUE(starts_with(q, "too_large: field 's' is longer than the ")) << q;
  // Envelope fields too.
  Step key = make(R"(filter: { field: "@key", op: regex, value: "^cust-", action: reject })");
  Record k = record("{}");
  k.key = "cust-" + std::string(kHuge, '1');
  EXPECT_TRUE(starts_with(timed(key, k), "too_large: filter cannot test @key: "));
}

TEST(Limits, FilterAndRequireOnHugeObjectsArraysAndDepth) {
  Json data = many_keys();
  data["s"] = std::string(kHuge, 'x');
  data["deep"] = nested(kDepth, "leaf");
  data["list"] = long_list();
  Record r = with(std::move(data));
  EXPECT_EQ(timed(make("filter: { field: s, op: eq, value: DE }"), r), "drop: filter not matched: s eq \"DE\"");
  EXPECT_EQ(timed(make("filter: { field: s, op: in, value: [DE, AT] }"), r),
            "drop: filter not matched: s in [\"DE\",\"AT\"]");
  EXPECT_EQ(timed(make("filter: { field: deep, op: eq, value: { a: 1 } }"), r),
            "drop: filter not matched: deep eq {\"a\":1}");
  EXPECT_EQ(timed(make("filter: { field: list, op: ne, value: [7, 7] }"), r), "keep");
  EXPECT_EQ(timed(make("filter: { field: k99999, op: ge, value: 99999 }"), r), "keep");
  EXPECT_EQ(timed(make("filter: { field: " + deep_path(kDepth) + ", op: exists }"), r),
            "drop: filter not matched: " + deep_path(kDepth) + " exists");  // no "a" at the top
  EXPECT_EQ(timed(make("filter: { field: deep." + deep_path(kDepth) + ", op: eq, value: leaf }"), r), "keep");
  EXPECT_EQ(
      timed(make("require: { fields: { s: { type: string }, list: { type: array }, deep: { type: object } } }"), r),
      "keep");
  EXPECT_EQ(timed(make("require: { fields: { deep: { enum: [a, b] } } }"), r),
            "rejected: field 'deep' is not one of: a, b");
  EXPECT_EQ(timed(make(R"(require: { fields: { list: { regex: "x" } } })"), r),
            "rejected: field 'list' must be a string to match regex 'x' (got array)");
}

TEST(Limits, RenameMovesValuesInsteadOfCopyingThem) {
  Step s = make(R"(rename: { big: "@key", k99999: moved, deep: other.deep })");
  Json data = many_keys();
  data["big"] = std::string(kHuge, 'x');
  data["deep"] = nested(kDepth, "leaf");
  Record r = with(std::move(data));
  EXPECT_EQ(timed(s, r), "keep");
  EXPECT_EQ(r.key.size(), kHuge);
  EXPECT_FALSE(r.data.contains("big"));
  EXPECT_FALSE(r.data.contains("k99999"));
  EXPECT_EQ(r.data["moved"], 99999);
  EXPECT_EQ(r.data.size(), kKeys + 1);  // -big -deep -k99999 +moved +other
  const Json* leaf = dive(r.data["other"]["deep"], kDepth);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(*leaf, "leaf");
  // A blocked target puts a huge value back in one move, too.
  Step blocked = make("rename: { moved: k5.x }");
  Record b = with({{"moved", std::string(kHuge, 'y')}, {"k5", 5}});
  EXPECT_EQ(timed(blocked, b), "rejected: cannot rename 'moved' to 'k5.x': 'k5' is not an object");
  EXPECT_EQ(b.data["moved"].get_ref<const std::string&>().size(), kHuge);
}

TEST(Limits, SetAndDefaultOnHugeAndDeepRecords) {
  const std::string path = deep_path(kDepth);
  // YAML needs "? " before keys longer than 1024 characters.
  Step set = make("set: { ? " + path + " : 1, k5: five }");
  Step fill = make("default: { ? " + path + " : 2, k6: six, fresh: { x: [1, 2] } }");
  Json data = many_keys();
  data["a"] = nested(kDepth - 1, "leaf");
  Record r = with(std::move(data));
  EXPECT_EQ(timed(fill, r), "keep");
  EXPECT_EQ(*dive(r.data, kDepth), "leaf");  // present: default leaves it
  EXPECT_EQ(r.data["k6"], 6);
  EXPECT_EQ(r.data["fresh"], Json::parse(R"({"x": [1, 2]})"));
  EXPECT_EQ(timed(set, r), "keep");
  EXPECT_EQ(*dive(r.data, kDepth), 1);
  EXPECT_EQ(r.data["k5"], "five");
  EXPECT_EQ(r.data.size(), kKeys + 2);
  // Creating all 1000 levels from nothing.
  Record empty = record("{}");
  EXPECT_EQ(timed(set, empty), "keep");
  EXPECT_EQ(*dive(empty.data, kDepth), 1);
  // Blocked by a huge string.
  Step into = make("set: { big.x: 1 }");
  Record b = with({{"big", std::string(kHuge, 'b')}});
  EXPECT_EQ(timed(into, b), "rejected: cannot set 'big.x': 'big' is not an object");
  // Overwriting a huge value.
  Step over = make("set: { big: small }");
  EXPECT_EQ(timed(over, b), "keep");
  EXPECT_EQ(b.data["big"], "small");
}

TEST(Limits, RemoveAndKeepOnHugeObjects) {
  auto hostile = [] {
    Json data = many_keys();
    data["big"] = std::string(kHuge, 'x');
    data["deep"] = nested(kDepth, "leaf");
    data["list"] = long_list();
    return with(std::move(data));
  };
  Record r = hostile();
  EXPECT_EQ(timed(make("remove: [k0, k99999, big, deep, list, nothing.here]"), r), "keep");
  EXPECT_EQ(r.data.size(), kKeys - 2);
  Record k = hostile();
  EXPECT_EQ(timed(make("keep: [k1, deep.a.a, list]"), k), "keep");
  EXPECT_EQ(k.data.size(), 3u);
  EXPECT_EQ(k.data["k1"], 1);
  EXPECT_EQ(k.data["list"].size(), kItems);
  const Json* leaf = dive(k.data["deep"], kDepth);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(*leaf, "leaf");
  Record none = hostile();
  EXPECT_EQ(timed(make("keep: [other]"), none), "keep");
  EXPECT_EQ(none.data, Json::object());
  Record deep = with({{"a", nested(kDepth - 1, "leaf")}, {"b", 1}});
  EXPECT_EQ(timed(make("keep: [" + deep_path(kDepth) + "]"), deep), "keep");
  EXPECT_EQ(deep.data.size(), 1u);
  EXPECT_EQ(*dive(deep.data, kDepth), "leaf");
}

TEST(Limits, HashAndMaskOnHugeValues) {
  Record r = with({{"s", std::string(kHuge, 'x')}, {"t", std::string(kHuge, 'y')}});
  EXPECT_EQ(timed(make("hash: { fields: [s], salt: pepper }"), r), "keep");
  EXPECT_EQ(r.data["s"].get_ref<const std::string&>().size(), 64u);
  EXPECT_EQ(timed(make("mask: { fields: [t], keep_last: 4 }"), r), "keep");
  const std::string& t = r.data["t"].get_ref<const std::string&>();
  EXPECT_EQ(t.size(), kHuge);
  EXPECT_EQ(t.find('y'), kHuge - 4);
  // A multi-byte mask character: 3 bytes per masked character.
  Record e = with({{"t", std::string(kHuge, 'y')}});
  EXPECT_EQ(timed(make(R"(mask: { fields: [t], keep_first: 1, char: "€" })"), e), "keep");
  EXPECT_EQ(e.data["t"].get_ref<const std::string&>().size(), 1 + 3 * (kHuge - 1));
  // Other types are refused at once.
  Record o = with({{"obj", many_keys()}, {"list", long_list()}, {"deep", nested(kDepth, 1)}});
  EXPECT_EQ(timed(make("hash: { fields: [obj] }"), o),
            "rejected: cannot hash field 'obj': object is not a string or number");
  EXPECT_EQ(timed(make("mask: { fields: [list] }"), o),
            "rejected: cannot mask field 'list': array is not a string or number");
  EXPECT_EQ(timed(make("mask: { fields: [deep] }"), o),
            "rejected: cannot mask field 'deep': object is not a string or number");
}

TEST(Limits, MaskCountsCodePointsOfOddUnicode) {
  Step s = make("mask: { fields: [v], keep_first: 1, keep_last: 1 }");
  // Combining accents, a ZWJ family (5 code points), a flag (2), 4-byte letters.
  Record r = with({{"v", "e\u0301👩‍👩‍👧🇩🇪𝔄"}});
  EXPECT_EQ(timed(s, r), "keep");
  EXPECT_EQ(r.data["v"], "e********𝔄");
  // 4 million 4-byte code points.
  std::string emoji;
  emoji.reserve(kHuge);
  while (emoji.size() + 4 <= kHuge) emoji += "😀";
  Record big = with({{"v", emoji}});
  EXPECT_EQ(timed(s, big), "keep");
  const std::string& v = big.data["v"].get_ref<const std::string&>();
  EXPECT_EQ(v.size(), 4 + (kHuge / 4 - 2) + 4);
  EXPECT_EQ(v.substr(0, 5), "😀*");
  EXPECT_NO_THROW((void)big.data.dump());  // still valid UTF-8
}

// lua: the record is a view, so the script pays for what it touches; what it
// copies into Lua is bounded by its memory limit, its loops by instructions.
TEST(Limits, LuaTouchesOnlyWhatTheScriptReads) {
  Step pass = make("lua: { source: 'function process(r) r.data.seen = true return r end' }");
  Record big =
      with({{"s", std::string(kHuge, 'x')}, {"keys", many_keys()}, {"deep", nested(kDepth, 1)}, {"list", long_list()}});
  EXPECT_EQ(timed(pass, big), "keep");
  EXPECT_EQ(big.data["s"].get_ref<const std::string&>().size(), kHuge);
  EXPECT_EQ(big.data["keys"].size(), kKeys);
  ASSERT_NE(dive(big.data["deep"], kDepth), nullptr);
  EXPECT_EQ(*dive(big.data["deep"], kDepth), 1);
  EXPECT_EQ(big.data["seen"], true);

  // Reading a 16 MiB string into a 16 MiB state is refused; with room it is read.
  Step reads = make("lua: { source: 'function process(r) r.data.n = #r.data.s return r end' }");
  EXPECT_EQ(timed(reads, big), "too_large: the script needed more than its memory limit of 16 MiB");
  Step roomy = make("lua: { source: 'function process(r) r.data.n = #r.data.s return r end', max_memory_mb: 64 }");
  EXPECT_EQ(timed(roomy, big), "keep");
  EXPECT_EQ(big.data["n"], kHuge);

  // Walking 100,000 keys and 1000 levels fits the default instruction limit; 200,000 items x a loop do not.
  Step walk = make(R"(lua:
  source: |
    function process(r)
      local n = 0
      for k, v in pairs(r.data.keys) do n = n + 1 end
      local d, depth = r.data.deep, 0
      while json_type(d) == "object" do d = d.a; depth = depth + 1 end
      r.data.walked = {n, depth}
      return r
    end
)");
  EXPECT_EQ(timed(walk, big), "keep");
  EXPECT_EQ(big.data["walked"], Json::parse("[100000, 1000]"));
  Step spin = make(R"(lua:
  source: |
    function process(r)
      for _, x in ipairs(r.data.list) do for j = 1, 100 do x = x + j end end
      return r
    end
)");
  EXPECT_EQ(timed(spin, big), "timeout: lua: instruction limit of 1000000 exceeded");
}

}  // namespace
}  // namespace touchpoint::core::test
