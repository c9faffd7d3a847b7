// lua: { source: <code> | file: <path>, function: process, max_instructions,
// max_memory_mb, max_records } runs a Lua 5.4 function per record
// (docs/lua.md). It returns the record (kept, as edited), nil (dropped, with
// an optional reason as second value), a list of records (the first replaces
// the input, the others go on as new records), or calls reject(reason).
//
// One sandboxed state per step, compiled once when the pipeline loads. Calls
// are serialised by a mutex: the applier runs a pipeline's steps on one
// thread, so it is never contended there.

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "transform/builtin.hpp"
#include "transform/lua_convert.hpp"
#include "transform/lua_sandbox.hpp"
#include "transform/lua_view.hpp"
#include "transform/options.hpp"

namespace touchpoint::core::transform {
namespace {

constexpr size_t kMaxScriptBytes = 1u << 20;

struct CallContext {
  Record* input;
  int function_ref;
};

// The envelope fields of `r` (not data or meta): the defaults of a returned record.
Record envelope_of(const Record& r, std::string id) {
  Record e;
  e.id = std::move(id);
  e.type = r.type;
  e.source = r.source;
  e.key = r.key;
  e.ts_ms = r.ts_ms;
  return e;
}

// Protected: looks up the global function *name and references it (or LUA_NOREF).
int reference_function(lua_State* L) {
  const auto* name = static_cast<const std::string*>(lua_touserdata(L, 1));
  if (lua_getglobal(L, name->c_str()) != LUA_TFUNCTION) {
    lua_pushinteger(L, LUA_NOREF);
    return 1;
  }
  lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
  return 1;
}

// Protected: pushes the function and the record and calls it (2 results).
int call_script(lua_State* L) {
  const auto* ctx = static_cast<const CallContext*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->function_ref);
  push_record_view(L, *ctx->input);
  lua_call(L, 1, 2);
  return 2;
}

class LuaTransform final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override { return std::nullopt; }  // whatever the script does
  LuaTransform(std::unique_ptr<LuaSandbox> sandbox, int function_ref, LuaLimits limits, size_t max_records,
               std::string file_code)
      : sandbox_(std::move(sandbox)),
        function_ref_(function_ref),
        limits_(limits),
        max_records_(max_records),
        file_code_(std::move(file_code)) {}

  std::string loaded_files() const override { return file_code_; }

  StepResult apply(Record& record) const override {
    std::lock_guard lock(mutex_);
    lua_State* L = sandbox_->state();
    lua_settop(L, 0);
    sandbox_->reset_budget();
    // The script edits the record in place and may fail half-way: the dead
    // letter keeps the original payload, and here the original id.
    std::string id = record.id;
    CallContext ctx{&record, function_ref_};
    lua_pushcfunction(L, call_script);
    lua_pushlightuserdata(L, &ctx);
    const int status = lua_pcall(L, 1, 2, 0);
    StepResult result = status == LUA_OK ? outcome(L, record) : failure(L, status);
    if (result.kind == StepResult::Kind::reject) record.id = std::move(id);
    end_views(L);
    lua_settop(L, 0);
    return result;
  }

 private:
  StepResult failure(lua_State* L, int status) const {
    if (status == LUA_ERRMEM)
      return StepResult::too_large("the script needed more than its memory limit of " +
                                   std::to_string(limits_.memory_bytes >> 20) + " MiB");
    if (lua_type(L, -1) == LUA_TTABLE && has_metatable(L, -1, LuaSandbox::reject_meta_key())) {
      lua_rawgeti(L, -1, 1);
      std::string reason = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "rejected by the script";
      return StepResult::reject(std::move(reason));
    }
    std::string message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "the script raised a non-string error";
    if (sandbox_->over_budget()) return StepResult::timeout("lua: " + message);
    return StepResult::reject("lua: " + message);
  }

  // Results are at -2 (the value) and -1 (a drop reason).
  StepResult outcome(lua_State* L, Record& record) const {
    const int value = lua_absindex(L, -2);
    if (lua_isnoneornil(L, value) || (lua_type(L, value) == LUA_TBOOLEAN && lua_toboolean(L, value) == 0)) {
      std::string why = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "dropped by the script";
      return StepResult::drop(std::move(why));
    }
    if (record_of_view(L, value) == &record) return StepResult::keep();  // `return r`: edited in place
    if (lua_type(L, value) != LUA_TTABLE)
      return StepResult::reject(std::string("lua: the function returned a ") + luaL_typename(L, value) +
                                "; expected a record, a list of records, or nil");
    lua_pushnil(L);
    if (lua_next(L, value) == 0) return StepResult::drop("the script returned no records");  // {}
    lua_pop(L, 2);
    std::string problem;
    if (lua_rawgeti(L, value, 1) == LUA_TNIL) {  // one record
      lua_pop(L, 1);
      if (!update_record(L, value, record, problem)) return StepResult::reject("lua: returned " + problem);
      return StepResult::keep();
    }
    lua_pop(L, 1);
    const size_t n = lua_rawlen(L, value);
    if (n > max_records_)
      return StepResult::reject("lua: returned " + std::to_string(n) + " records, more than max_records (" +
                                std::to_string(max_records_) + ")");
    // The first record is the input, updated in place; the others are new.
    const Record input = envelope_of(record, record.id);
    std::vector<Record> extra(n - 1);
    std::set<std::string> ids;
    for (size_t i = 0; i < n; ++i) {
      lua_rawgeti(L, value, static_cast<lua_Integer>(i + 1));
      bool ok;
      if (i == 0) {
        ok = record_of_view(L, -1) == &record || update_record(L, -1, record, problem);
      } else if (record_of_view(L, -1) != nullptr) {
        ok = false;
        problem = "the input record can only be the first of the list";
      } else {
        // A record made beside the input gets a derived id unless it names its own.
        ok = read_record(L, -1, envelope_of(input, input.id + "#" + std::to_string(i + 1)), extra[i - 1], problem);
      }
      lua_pop(L, 1);
      if (!ok) return StepResult::reject("lua: returned record " + std::to_string(i + 1) + ": " + problem);
      if (!ids.insert(i == 0 ? record.id : extra[i - 1].id).second)
        return StepResult::reject("lua: returned two records with the id '" + extra[i - 1].id + "'");
    }
    StepResult kept = StepResult::keep();
    kept.emitted = std::move(extra);
    return kept;
  }

  std::unique_ptr<LuaSandbox> sandbox_;
  int function_ref_;
  LuaLimits limits_;
  size_t max_records_;
  std::string file_code_;  ///< the script when it came from `file`
  mutable std::mutex mutex_;
};

std::string read_script(const Options& o) {
  namespace fs = std::filesystem;
  fs::path path = o.required_string("file");
  if (path.is_relative()) path = fs::absolute(fs::path(o.source().file())).parent_path() / path;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) o.fail("file", "cannot read Lua script '" + path.string() + "': " + ec.message());
  if (size > kMaxScriptBytes) o.fail("file", "Lua script '" + path.string() + "' is larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) o.fail("file", "cannot read Lua script '" + path.string() + "'");
  return text.str();
}

}  // namespace

std::unique_ptr<Transform> make_lua(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source) {
  Options o(options, anchor, "lua", {"source", "file", "function", "max_instructions", "max_memory_mb", "max_records"},
            source);
  if (o.has("source") == o.has("file")) o.fail("source", "lua needs exactly one of 'source' (the code) or 'file'");
  const std::string code = o.has("source") ? o.required_string("source") : read_script(o);
  const std::string function = o.string("function", "process");
  LuaLimits limits;
  limits.instructions = o.count("max_instructions", limits.instructions);
  limits.memory_bytes = o.count("max_memory_mb", limits.memory_bytes >> 20) << 20;
  if (limits.memory_bytes > (size_t{1024} << 20)) o.fail("max_memory_mb", "max_memory_mb is at most 1024");
  const size_t max_records = o.count("max_records", 100);

  const YAML::Node where = o.has("source") ? o.get("source") : o.get("file");
  // Lua prefixes its messages with this, then the line within the script.
  const std::string chunk = o.has("file") ? o.string("file", "") : "script";
  std::unique_ptr<LuaSandbox> sandbox;
  try {
    sandbox = std::make_unique<LuaSandbox>(code, chunk, limits);
  } catch (const std::exception& e) {
    source.fail(where, std::string("Lua script does not load: ") + e.what());
  }
  lua_State* L = sandbox->state();
  lua_pushcfunction(L, reference_function);
  lua_pushlightuserdata(L, const_cast<std::string*>(&function));
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) source.fail(where, "the Lua script used up its memory limit while loading");
  const int ref = static_cast<int>(lua_tointeger(L, -1));
  lua_settop(L, 0);
  if (ref == LUA_NOREF) source.fail(where, "the Lua script defines no function '" + function + "(record)'");
  return std::make_unique<LuaTransform>(std::move(sandbox), ref, limits, max_records,
                                        o.has("file") ? code : std::string());
}

}  // namespace touchpoint::core::transform
