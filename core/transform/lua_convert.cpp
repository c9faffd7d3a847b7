#include "transform/lua_convert.hpp"

#include <simdjson.h>
#include <touchpoint/abi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "transform/lua_sandbox.hpp"
#include "transform/lua_view.hpp"

namespace touchpoint::core::transform {
namespace {

// Deeper than any record the host accepts needs; bounds the C stack both ways.
constexpr int kMaxDepth = 128;

std::string_view string_at(lua_State* L, int index) {
  size_t len = 0;
  const char* s = lua_tolstring(L, index, &len);  // only ever called on strings: no conversion
  return {s, len};
}

bool utf8(std::string_view s, std::string& problem, const std::string& what) {
  if (simdjson::validate_utf8(s.data(), s.size())) return true;
  problem = what + " that is not valid UTF-8";
  return false;
}

bool read_json(lua_State* L, int index, Json& out, int depth, std::string& problem);

// Bounds the recursion into a table: the nesting limit, and stack for the walk.
bool can_enter(lua_State* L, int depth, std::string& problem) {
  if (depth > kMaxDepth) {
    problem = "a table nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return false;
  }
  if (!lua_checkstack(L, 4)) {
    problem = "a table nested too deep";
    return false;
  }
  return true;
}

// t[1..length] of the table at (absolute) `index`, as a JSON array.
bool read_items(lua_State* L, int index, lua_Integer length, Json& out, int depth, std::string& problem) {
  out = Json::array();
  for (lua_Integer i = 1; i <= length; ++i) {
    lua_rawgeti(L, index, i);
    Json item;
    const bool ok = read_json(L, -1, item, depth + 1, problem);
    lua_pop(L, 1);
    if (!ok) return false;
    out.push_back(std::move(item));
  }
  return true;
}

bool read_table(lua_State* L, int index, Json& out, int depth, std::string& problem) {
  if (!can_enter(L, depth, problem)) return false;
  index = lua_absindex(L, index);
  const lua_Integer length = static_cast<lua_Integer>(lua_rawlen(L, index));
  if (has_metatable(L, index, LuaSandbox::array_meta_key())) return read_items(L, index, length, out, depth, problem);
  // A plain table is an object when its keys are strings and an array when
  // they are exactly 1..n; an empty one is an object (use array() for []).
  out = Json::object();
  lua_Integer indices = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const std::string_view key = string_at(L, -2);
      if (!utf8(key, problem, "a table key")) {
        lua_pop(L, 2);
        return false;
      }
      Json value;
      if (!read_json(L, -1, value, depth + 1, problem)) {
        lua_pop(L, 2);
        return false;
      }
      out[std::string(key)] = std::move(value);
    } else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 && lua_tointeger(L, -2) <= length) {
      ++indices;
    } else {
      problem = std::string("a table key of type ") + lua_typename(L, lua_type(L, -2)) +
                " (keys are strings, or 1..n for an array)";
      lua_pop(L, 2);
      return false;
    }
    lua_pop(L, 1);
  }
  if (indices == 0) return true;
  if (!out.empty()) {
    problem = "a table with both string keys and array items";
    return false;
  }
  if (indices != length) {
    problem = "an array with holes";
    return false;
  }
  return read_items(L, index, length, out, depth, problem);
}

bool read_json(lua_State* L, int index, Json& out, int depth, std::string& problem) {
  switch (lua_type(L, index)) {
    case LUA_TBOOLEAN:
      out = lua_toboolean(L, index) != 0;
      return true;
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) {
        out = static_cast<int64_t>(lua_tointeger(L, index));
        return true;
      }
      if (const double d = lua_tonumber(L, index); std::isfinite(d)) {
        out = d;
        return true;
      }
      problem = "a number that is NaN or infinite (JSON has neither)";
      return false;
    case LUA_TSTRING: {
      const std::string_view s = string_at(L, index);
      if (!utf8(s, problem, "a string")) return false;
      out = std::string(s);
      return true;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == LuaSandbox::null_sentinel()) {
        out = nullptr;
        return true;
      }
      break;
    case LUA_TTABLE:
      return read_table(L, index, out, depth, problem);
    case LUA_TUSERDATA: {
      bool stale = false;
      if (const Json* node = node_of_view(L, index, stale)) {
        out = *node;  // a view stored elsewhere is a copy of what it shows
        return true;
      }
      if (stale) {
        problem = "a view of the record that went stale";
        return false;
      }
      if (record_of_view(L, index) != nullptr) {
        problem = "the record itself (store one of its fields, or return it)";
        return false;
      }
      break;
    }
    default:
      break;
  }
  problem = std::string("a value of type ") + luaL_typename(L, index) + " (JSON has none)";
  return false;
}

// Makes `target` equal to the Lua value at `index`, changing only what
// differs, so that a script that reads many fields and writes a few pays for
// a few. Where the shapes differ it rebuilds the value with read_json.
bool update_json(lua_State* L, int index, Json& target, int depth, std::string& problem);

bool update_object(lua_State* L, int index, Json::object_t& obj, int depth, std::string& problem) {
  size_t seen = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return false;  // not an object after all: the caller rebuilds
    }
    const std::string_view key = string_at(L, -2);
    auto it = obj.find(key);
    bool ok = true;
    if (it == obj.end()) {
      Json value;
      ok = utf8(key, problem, "a table key") && read_json(L, -1, value, depth + 1, problem);
      if (ok) obj.emplace(std::string(key), std::move(value));
    } else {
      ok = update_json(L, -1, it->second, depth + 1, problem);
    }
    if (!ok) {
      lua_pop(L, 2);
      return false;
    }
    ++seen;
    lua_pop(L, 1);
  }
  if (seen == obj.size()) return true;
  // Some keys were removed in Lua. Rare: collect the table's keys and erase the rest.
  std::vector<std::string_view> keys;
  keys.reserve(seen);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    keys.push_back(string_at(L, -2));
    lua_pop(L, 1);
  }
  std::sort(keys.begin(), keys.end());
  for (auto it = obj.begin(); it != obj.end();)
    it = std::binary_search(keys.begin(), keys.end(), std::string_view(it->first)) ? std::next(it) : obj.erase(it);
  return true;
}

bool update_table(lua_State* L, int index, Json& target, int depth, std::string& problem) {
  if (!can_enter(L, depth, problem)) return false;
  index = lua_absindex(L, index);
  if (has_metatable(L, index, LuaSandbox::array_meta_key())) {
    const size_t length = lua_rawlen(L, index);
    if (!target.is_array() || target.size() != length) return read_table(L, index, target, depth, problem);
    for (size_t i = 0; i < length; ++i) {
      lua_rawgeti(L, index, static_cast<lua_Integer>(i + 1));
      const bool ok = update_json(L, -1, target[i], depth + 1, problem);
      lua_pop(L, 1);
      if (!ok) return false;
    }
    return true;
  }
  if (target.is_object() && update_object(L, index, target.get_ref<Json::object_t&>(), depth, problem)) return true;
  if (!problem.empty()) return false;
  return read_table(L, index, target, depth, problem);
}

bool update_json(lua_State* L, int index, Json& target, int depth, std::string& problem) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING: {
      const std::string_view s = string_at(L, index);
      if (target.is_string() && target.get_ref<const std::string&>() == s) return true;
      if (!utf8(s, problem, "a string")) return false;
      target = std::string(s);
      return true;
    }
    case LUA_TTABLE:
      return update_table(L, index, target, depth, problem);
    case LUA_TUSERDATA: {
      bool stale = false;
      if (node_of_view(L, index, stale) == &target) return true;  // `data = r.data`: unchanged
      [[fallthrough]];
    }
    default: {
      Json value;
      if (!read_json(L, index, value, depth, problem)) return false;
      if (value != target) target = std::move(value);
      return true;
    }
  }
}

bool read_string_field(lua_State* L, std::string_view name, std::string& out, std::string& problem) {
  if (lua_type(L, -1) != LUA_TSTRING) {
    problem = "record field '" + std::string(name) + "' must be a string, not " + luaL_typename(L, -1);
    return false;
  }
  const std::string_view s = string_at(L, -1);
  if (!check_envelope_field(name, s, problem)) return false;
  if (out != s) out.assign(s);
  return true;
}

bool read_envelope_field(lua_State* L, std::string_view name, Record& out, std::string& problem) {
  if (name == "id") return read_string_field(L, name, out.id, problem);
  if (name == "type") return read_string_field(L, name, out.type, problem);
  if (name == "key") return read_string_field(L, name, out.key, problem);
  if (name == "source") return read_string_field(L, name, out.source, problem);
  if (name == "ts") {
    if (!lua_isinteger(L, -1)) {
      problem = "record field 'ts' must be an integer (Unix epoch milliseconds)";
      return false;
    }
    out.ts_ms = lua_tointeger(L, -1);
    return true;
  }
  if (name == "data" || name == "meta") {
    Json& target = name == "data" ? out.data : out.meta;
    if (!update_json(L, -1, target, 1, problem) || !target.is_object()) {
      if (problem.empty()) problem = "record field '" + std::string(name) + "' must be a table with string keys";
      return false;
    }
    return true;
  }
  problem = "unknown record field '" + std::string(name) + "' (id, type, source, key, ts, data, meta)";
  return false;
}

}  // namespace

bool has_metatable(lua_State* L, int index, const void* key) {
  if (lua_getmetatable(L, index) == 0) return false;
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  const bool same = lua_rawequal(L, -1, -2) != 0;
  lua_pop(L, 2);
  return same;
}

bool read_record(lua_State* L, int index, const Record& base, Record& out, std::string& problem) {
  out.id = base.id;
  out.type = base.type;
  out.source = base.source;
  out.key = base.key;
  out.ts_ms = base.ts_ms;
  out.data = Json::object();
  out.meta = Json::object();
  return update_record(L, index, out, problem);
}

bool update_record(lua_State* L, int index, Record& out, std::string& problem) {
  if (lua_type(L, index) != LUA_TTABLE) {
    problem = std::string("a record must be a table, not ") + luaL_typename(L, index);
    return false;
  }
  if (!lua_checkstack(L, 4)) {
    problem = "out of Lua stack";
    return false;
  }
  index = lua_absindex(L, index);
  bool has_data = false, has_meta = false;
  // Fields are found by walking the table rather than by lua_getfield, which
  // may allocate a key string and so raise outside any protected call.
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      problem = "a record table has only named fields (id, type, source, key, ts, data, meta)";
      lua_pop(L, 2);
      return false;
    }
    const std::string_view name = string_at(L, -2);
    has_data = has_data || name == "data";
    has_meta = has_meta || name == "meta";
    if (!read_envelope_field(L, name, out, problem)) {
      lua_pop(L, 2);
      return false;
    }
    lua_pop(L, 1);
  }
  if (!has_data) out.data = Json::object();
  if (!has_meta) out.meta = Json::object();
  return true;
}

bool read_json(lua_State* L, int index, Json& out, std::string& problem) {
  return read_json(L, index, out, 1, problem);
}

bool check_envelope_field(std::string_view name, std::string_view value, std::string& problem) {
  const size_t limit = name == "type" ? TP_MAX_TYPE_BYTES : name == "key" ? TP_MAX_KEY_BYTES : TP_MAX_ID_BYTES;
  const std::string field = "record field '" + std::string(name) + "'";
  if (value.size() > limit) {
    problem = field + " is longer than " + std::to_string(limit) + " bytes";
    return false;
  }
  if (value.empty() && (name == "id" || name == "type")) {
    problem = field + " is empty";
    return false;
  }
  if (!utf8(value, problem, field + " with a value")) return false;
  if (name == "type")
    for (char c : value)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
        problem = field + " must use a-z, 0-9, '_', '-', '.'";
        return false;
      }
  return true;
}

}  // namespace touchpoint::core::transform
