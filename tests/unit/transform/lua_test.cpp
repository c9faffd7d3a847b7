// The lua step: what a script sees and returns, its sandbox and limits, and
// hostile values on the way in and out.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

// A lua step whose `process` function body is `body`.
Step lua(const std::string& body, const std::string& extra_options = "") {
  std::string yaml = "lua:\n" + extra_options + "  source: |\n    function process(r)\n";
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) yaml += "      " + line + "\n";
  yaml += "    end\n";
  return make(yaml);
}

TEST(Lua, EditsTheRecordItIsGiven) {
  Step s =
      lua("r.data.country = string.upper(r.data.country)\nr.data.seen = true\nr.key = 'c-' .. r.data.n\n"
          "r.type = 'profile'\nreturn r");
  Record r = record(R"({"country": "de", "n": 7})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"country": "DE", "n": 7, "seen": true})"));
  EXPECT_EQ(r.key, "c-7");
  EXPECT_EQ(r.type, "profile");
  EXPECT_EQ(r.id, "r-1");
  EXPECT_EQ(r.source, "test");
}

TEST(Lua, NilDropsTheRecordWithTheReasonGiven) {
  Step s = lua("if r.data.test then return nil, 'a test account' end\nreturn r");
  Record test_account = record(R"({"test": true})");
  EXPECT_EQ(apply(s, test_account), "drop: a test account");
  Record real = record(R"({"test": false})");
  EXPECT_EQ(apply(s, real), "keep");
  Step silent = lua("return nil");
  Record any = record("{}");
  EXPECT_EQ(apply(silent, any), "drop: dropped by the script");
}

TEST(Lua, RejectSendsTheRecordToTheDeadLetterStoreWithItsReason) {
  Step s = lua("if not r.data.email then reject('no e-mail address') end\nreturn r");
  Record r = record(R"({"phone": "1"})");
  EXPECT_EQ(apply_coded(s, r), "rejected: no e-mail address");
}

TEST(Lua, AScriptErrorIsARejectWithLuasMessageAndLine) {
  Step s = lua("local x = r.data.missing.field\nreturn r");
  Record r = record("{}");
  EXPECT_EQ(apply(s, r), "reject: lua: script:2: attempt to index a nil value (field 'missing')");
}

TEST(Lua, AListOfRecordsFansOutWithDerivedIdsAndTheInputsEnvelope) {
  Step s =
      lua("local out = {r}\n"
          "for i, item in ipairs(r.data.items) do\n"
          "  out[#out + 1] = {type = 'purchase', data = {sku = item}}\n"
          "end\n"
          "out[#out + 1] = {id = 'own-id', data = {}}\n"
          "return out");
  Record r = record(R"({"items": ["a", "b"]})");
  r.key = "c-1";
  r.ts_ms = 1234;
  StepResult result = s.transform->apply(r);
  ASSERT_EQ(result.kind, StepResult::Kind::keep) << result.reason;
  EXPECT_EQ(r.id, "r-1");
  ASSERT_EQ(result.emitted.size(), 3u);
  EXPECT_EQ(result.emitted[0].id, "r-1#2");
  EXPECT_EQ(result.emitted[0].type, "purchase");
  EXPECT_EQ(result.emitted[0].key, "c-1");
  EXPECT_EQ(result.emitted[0].ts_ms, 1234);
  EXPECT_EQ(result.emitted[0].source, "test");
  EXPECT_EQ(result.emitted[0].data, Json::parse(R"({"sku": "a"})"));
  EXPECT_EQ(result.emitted[1].id, "r-1#3");
  EXPECT_EQ(result.emitted[2].id, "own-id");
  EXPECT_EQ(result.emitted[2].type, "event");
}

TEST(Lua, AFanOutIsBoundedAndItsIdsUnique) {
  Step many = lua("local out = {}\nfor i = 1, 101 do out[i] = {id = 'x' .. i} end\nreturn out");
  Record r = record("{}");
  EXPECT_EQ(apply(many, r), "reject: lua: returned 101 records, more than max_records (100)");
  Step twice = lua("return {r, {id = 'r-1'}}");
  Record r2 = record("{}");
  EXPECT_EQ(apply(twice, r2), "reject: lua: returned two records with the id 'r-1'");
  Step none = lua("return {}");
  Record r3 = record("{}");
  EXPECT_EQ(apply(none, r3), "drop: the script returned no records");
}

TEST(Lua, JsonValuesRoundTripUnchanged) {
  Step s = lua("return r");
  const char* data =
      R"({"null": null, "empty_array": [], "empty_object": {}, "array": [1, "two", [3], {"four": 4}],
          "float": 1.5, "big": 9007199254740993, "negative": -42, "bool": false, "text": "Grüße \u0000 ✓",
          "nested": {"a": {"b": {"c": [null, true]}}}})";
  Record r = record(data);
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(data));
}

TEST(Lua, NullAndArraysAreAvailableToScripts) {
  Step s = lua("r.data.gone = null\nr.data.list = array()\nr.data.was_null = (r.data.old == null)\nreturn r");
  Record r = record(R"({"old": null})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"old": null, "gone": null, "list": [], "was_null": true})"));
}

TEST(Lua, TheSandboxHasNoFilesProcessesOrCodeLoading) {
  Step s =
      lua("r.data.absent = (io == nil and os == nil and load == nil and loadfile == nil and dofile == nil and\n"
          "  require == nil and package == nil and debug == nil and string.dump == nil and print == nil and\n"
          "  collectgarbage == nil)\n"
          "r.data.present = (string.format ~= nil and table.concat ~= nil and math.floor ~= nil and utf8.len ~= nil)\n"
          "return r");
  Record r = record("{}");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"absent": true, "present": true})"));
  EXPECT_NE(config_error("lua:\n  source: |\n    os.execute('touch /tmp/x')\n    function process(r) return r end\n")
                .find("Lua script does not load: script:1: attempt to index a nil value (global 'os')"),
            std::string::npos);
}

TEST(Lua, BytecodeIsRefused) {
  EXPECT_NE(config_error("lua: { source: \"\\eLua\\x54\\x00\" }").find("attempt to load a binary chunk"),
            std::string::npos);
}

TEST(Lua, ARunawayScriptStopsAtTheInstructionLimitAndTheStepStaysUsable) {
  Step s = lua("if r.data.loop then while true do end end\nreturn r", "  max_instructions: 100000\n");
  Record runaway = record(R"({"loop": true})");
  double spent =
      seconds([&] { EXPECT_EQ(apply_coded(s, runaway), "timeout: lua: instruction limit of 100000 exceeded"); });
  EXPECT_LT(spent, kStepSeconds);
  Record fine = record(R"({"loop": false})");
  EXPECT_EQ(apply(s, fine), "keep");
}

TEST(Lua, AScriptOverItsMemoryLimitIsRefusedAndTheStepStaysUsable) {
  Step s =
      lua("if r.data.hog then local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end end\n"
          "if r.data.rep then local s = string.rep('x', 1e8) end\n"
          "return r",
          "  max_memory_mb: 4\n");
  Record hog = record(R"({"hog": true})");
  EXPECT_EQ(apply_coded(s, hog), "too_large: the script needed more than its memory limit of 4 MiB");
  Record rep = record(R"({"rep": true})");
  EXPECT_EQ(apply_coded(s, rep), "too_large: the script needed more than its memory limit of 4 MiB");
  Record fine = record("{}");
  EXPECT_EQ(apply(s, fine), "keep");
  // The record is not in the state: a value larger than the limit costs nothing until the script reads it.
  Record huge = record("{}");
  huge.data["blob"] = std::string(5u << 20, 'x');
  EXPECT_EQ(apply_coded(s, huge), "keep");
  Step reads = lua("local n = #r.data.blob\nreturn r", "  max_memory_mb: 4\n");
  EXPECT_EQ(apply_coded(reads, huge), "too_large: the script needed more than its memory limit of 4 MiB");
}

TEST(Lua, ValuesWithoutAJsonFormAreRejectedWhereTheScriptStoresThem) {
  const std::pair<const char*, const char*> cases[] = {
      {"r.data.f = print or function() end",
       "reject: lua: script:2: cannot store 'f': a value of type function (JSON has none)"},
      {"r.data.nan = 0/0",
       "reject: lua: script:2: cannot store 'nan': a number that is NaN or infinite (JSON has neither)"},
      {"r.data.inf = math.huge",
       "reject: lua: script:2: cannot store 'inf': a number that is NaN or infinite (JSON has neither)"},
      {"r.data.bad = '\\xff\\xfe'", "reject: lua: script:2: cannot store 'bad': a string that is not valid UTF-8"},
      {"r.data.mixed = {1, 2, x = 3}",
       "reject: lua: script:2: cannot store 'mixed': a table with both string keys and array items"},
      {"r.data.holes = {1, nil, 3, nil, nil, 6}", "reject: lua: script:2: cannot store 'holes': an array with holes"},
      {"r.data.keys = {[true] = 1}",
       "reject: lua: script:2: cannot store 'keys': a table key of type boolean (keys are strings, or 1..n for an "
       "array)"},
      {"local t = {} t.t = t r.data.cycle = t",
       "reject: lua: script:2: cannot store 'cycle': a table nested deeper than 128 levels"},
      {"r.data[1] = 'x'", "reject: lua: script:2: the keys of an object are strings, not [1]"},
      {"r.data.list[5] = 1", "reject: lua: script:2: index [5] is outside the array (1..3)"},
      {"r.data.list[1] = nil", "reject: lua: script:2: cannot leave a hole at [1] of an array (use table.remove)"},
      {"r.data.me = r",
       "reject: lua: script:2: cannot store 'me': the record itself (store one of its fields, or return it)"},
      {"r.ts = 'yesterday'", "reject: lua: script:2: record field 'ts' must be an integer (Unix epoch milliseconds)"},
      {"r.id = ''", "reject: lua: script:2: record field 'id' is empty"},
      {"r.type = 'Not A Type'", "reject: lua: script:2: record field 'type' must use a-z, 0-9, '_', '-', '.'"},
      {"r.id = string.rep('x', 257)", "reject: lua: script:2: record field 'id' is longer than 256 bytes"},
      {"r.key = '\\xc3'", "reject: lua: script:2: record field 'key' with a value that is not valid UTF-8"},
      {"r.colour = 'red'",
       "reject: lua: script:2: unknown record field 'colour' (id, type, source, key, ts, data, meta)"},
      {"r.data = 'text'", "reject: lua: script:2: record field 'data' must be an object"},
      {"r.id = 'changed'\nerror('boom')", "reject: lua: script:3: boom"},
  };
  for (const auto& [line, expected] : cases) {
    Step s = lua(std::string(line) + "\nreturn r");
    Record r = record(R"({"x": 1, "list": [1, 2]})");
    EXPECT_EQ(apply(s, r), expected) << line;
    EXPECT_EQ(r.id, "r-1") << "a reject keeps the record's id for the dead letter: " << line;
  }
  // A returned table is checked the same way when the step reads it back.
  Step returned = lua("return {id = 'x', data = {f = print or function() end}}");
  Record r = record("{}");
  EXPECT_EQ(apply(returned, r), "reject: lua: returned a value of type function (JSON has none)");
  Step number = lua("return 42");
  EXPECT_EQ(apply(number, r),
            "reject: lua: the function returned a number; expected a record, a list of records, or nil");
}

TEST(Lua, TheRecordIsAViewObjectsAndArraysBehaveLikeTables) {
  Step s =
      lua("local d = r.data\n"
          "table.insert(d.tags, 'new')\n"
          "table.remove(d.tags, 1)\n"
          "local keys = {}\n"
          "for k, v in pairs(d.address) do keys[#keys + 1] = k .. '=' .. tostring(v) end\n"
          "d.summary = table.concat(keys, ';')\n"
          "local sum = 0\n"
          "for i, n in ipairs(d.numbers) do sum = sum + i * n end\n"
          "d.sum = sum\n"
          "d.count = #d.numbers\n"
          "d.kinds = {json_type(d.address), json_type(d.tags), json_type(d.x), json_type(d.none), json_type(null)}\n"
          "d.copy = d.address\n"
          "d.copy.city = 'Köln'\n"
          "d.address.zip = nil\n"
          "r.meta.seen = true\n"
          "return r");
  Record r = record(R"({"tags": ["a", "b"], "address": {"city": "Bonn", "zip": "53111"}, "numbers": [10, 20, 30],
                       "x": 1.5})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"tags": ["b", "new"], "address": {"city": "Bonn"}, "numbers": [10, 20, 30],
      "x": 1.5, "summary": "city=Bonn;zip=53111", "sum": 140, "count": 3,
      "kinds": ["object", "array", "number", "nil", "null"], "copy": {"city": "Köln", "zip": "53111"}})"));
  EXPECT_EQ(r.meta, Json::parse(R"({"seen": true})"));
}

TEST(Lua, AViewGoesStaleWhenItsCallEndsOrItsContainerIsReplaced) {
  Step kept = lua("if saved then local x = saved.city end\nsaved = r.data.address\nreturn r");
  Record first = record(R"({"address": {"city": "Bonn"}})");
  EXPECT_EQ(apply(kept, first), "keep");
  Record second = record(R"({"address": {"city": "Köln"}})");
  EXPECT_NE(apply(kept, second).find("script:2: a view of the record used after it went stale"), std::string::npos);

  Step replaced = lua("local a = r.data.address.geo\nr.data.address = {city = 'x'}\nreturn {a.lat}");
  Record r = record(R"({"address": {"geo": {"lat": 1}}})");
  EXPECT_NE(apply(replaced, r).find("script:4: a view of the record used after it went stale"), std::string::npos);

  Step saved_record = lua("if old then local id = old.id end\nold = r\nreturn r");
  Record a = record("{}"), b = record("{}");
  EXPECT_EQ(apply(saved_record, a), "keep");
  EXPECT_NE(apply(saved_record, b).find("a record used after its call of the script ended"), std::string::npos);

  // The root views stay usable however the data under them changes.
  Step root = lua("local d = r.data\nd.address = nil\nd.tags = {1}\nd.n = 1\nreturn r");
  Record c = record(R"({"address": {"city": "Bonn"}, "tags": []})");
  EXPECT_EQ(apply(root, c), "keep");
  EXPECT_EQ(c.data, Json::parse(R"({"tags": [1], "n": 1})"));
}

TEST(Lua, HostileInputValuesPassThroughInBoundedTime) {
  Step s =
      lua("r.data.digits = #r.data.phone\nr.data.depth = 0\nlocal t = r.data.deep\n"
          "while json_type(t) == 'array' do r.data.depth = r.data.depth + 1; t = t[1] end\nreturn r");
  Record r = record("{}");
  r.data["phone"] = std::string(5'000'000, '7');
  Json deep = Json::array();
  for (int i = 0; i < 100; ++i) deep = Json::array({deep});
  r.data["deep"] = deep;
  double spent = seconds([&] { EXPECT_EQ(apply(s, r), "keep"); });
  EXPECT_LT(spent, kStepSeconds);
  EXPECT_EQ(r.data["digits"], 5'000'000);
  EXPECT_EQ(r.data["depth"], 101);
  EXPECT_EQ(r.data["phone"].get_ref<const std::string&>().size(), 5'000'000u);

  // Views descend lazily: a record nested deeper than a copy may go passes, and a copy of it is refused.
  Record deeper = record("{}");
  Json d = Json::object();
  for (int i = 0; i < 200; ++i) d = Json{{"x", d}};
  deeper.data["d"] = d;
  Step untouched = lua("return r");
  EXPECT_EQ(apply(untouched, deeper), "keep");
  Step copies = lua("r.data.copy = r.data.d\nreturn r");
  EXPECT_EQ(apply(copies, deeper), "keep");  // a view is copied as JSON, not through Lua
  Step through_lua = lua("local t = {inner = r.data.d}\nreturn {r, {data = {t = t}}}");
  EXPECT_EQ(apply(through_lua, deeper), "keep");
}

TEST(Lua, ConfigMistakesPointAtTheStep) {
  EXPECT_EQ(config_error("lua: { source: 'function process(r) return r' }"),
            "p.yaml:1:16: Lua script does not load: script:1: 'end' expected near <eof>");
  EXPECT_EQ(config_error("lua: { source: 'function handle(r) return r end' }"),
            "p.yaml:1:16: the Lua script defines no function 'process(record)'");
  EXPECT_EQ(config_error("lua: { source: 'function handle(r) return r end', function: handle }"), "<no error>");
  EXPECT_NE(config_error("lua: { source: 'x', file: y.lua }").find("exactly one of 'source'"), std::string::npos);
  EXPECT_NE(config_error("lua: { }").find("exactly one of 'source'"), std::string::npos);
  EXPECT_NE(config_error("lua: { file: /nonexistent/x.lua }").find("cannot read Lua script '/nonexistent/x.lua'"),
            std::string::npos);
  EXPECT_NE(config_error("lua: { source: 'function process(r) return r end', colour: red }").find("colour"),
            std::string::npos);
  EXPECT_NE(config_error("lua: { source: 'function process(r) return r end', max_memory_mb: 5000 }")
                .find("max_memory_mb is at most 1024"),
            std::string::npos);
  EXPECT_NE(config_error("lua: { source: 'x = string.rep(\"x\", 1e9)', max_memory_mb: 1 }").find("does not load"),
            std::string::npos);
}

TEST(Lua, AScriptFileIsReadRelativeToThePipelineFileAndPartOfItsFingerprint) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tp-lua-" + std::to_string(::getpid()));
  fs::create_directories(dir / "scripts");
  std::ofstream(dir / "scripts" / "tag.lua") << "function process(r)\n  r.data.tagged = true\n  return r\nend\n";
  Step s = make_step(YAML::Load("lua: { file: scripts/tag.lua }"), 0, ConfigSource((dir / "p.yaml").string()));
  Record r = record("{}");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"tagged": true})"));
  EXPECT_NE(s.transform->loaded_files().find("r.data.tagged = true"), std::string::npos);
  std::ofstream(dir / "scripts" / "bad.lua") << "function process(r)\n  return r +\nend\n";
  try {
    make_step(YAML::Load("lua: { file: scripts/bad.lua }"), 0, ConfigSource((dir / "p.yaml").string()));
    ADD_FAILURE() << "a script with a syntax error loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.message(), "Lua script does not load: scripts/bad.lua:3: unexpected symbol near 'end'");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace touchpoint::core::test
