#include "transform/lua_view.hpp"

#include <simdjson.h>
#include <touchpoint/abi.h>

#include <string>
#include <string_view>

#include "transform/lua_convert.hpp"
#include "transform/lua_sandbox.hpp"

namespace touchpoint::core::transform {
namespace {

char view_meta_tag;
char record_meta_tag;

constexpr const char* kStale =
    "a view of the record used after it went stale (after the call, or after a container it is in was replaced; "
    "read it again from the record)";

struct View {
  Json* node;
  uint64_t call;
  uint64_t version;
  bool root;  ///< r.data / r.meta: Record members, stable for the whole call
};

struct RecordView {
  Record* record;
  uint64_t call;
};

using Clock = LuaSandbox::ViewClock;

Clock& clock_of(lua_State* L) noexcept { return LuaSandbox::of(L).views; }

View* to_view(lua_State* L, int index) noexcept {
  if (lua_type(L, index) != LUA_TUSERDATA || !has_metatable(L, index, &view_meta_tag)) return nullptr;
  return static_cast<View*>(lua_touserdata(L, index));
}

RecordView* to_record_view(lua_State* L, int index) noexcept {
  if (lua_type(L, index) != LUA_TUSERDATA || !has_metatable(L, index, &record_meta_tag)) return nullptr;
  return static_cast<RecordView*>(lua_touserdata(L, index));
}

bool fresh(const View& v, const Clock& c) noexcept { return v.call == c.call && (v.root || v.version == c.version); }

// The node of the view at `index`; raises when it is not a fresh view.
Json* checked_node(lua_State* L, int index) {
  View* v = to_view(L, index);
  if (v == nullptr) luaL_error(L, "not a view of the record");
  if (!fresh(*v, clock_of(L))) luaL_error(L, "%s", kStale);
  return v->node;
}

Record* checked_record(lua_State* L, int index) {
  RecordView* v = to_record_view(L, index);
  if (v == nullptr) luaL_error(L, "not a record");
  if (v->call != clock_of(L).call) luaL_error(L, "a record used after its call of the script ended");
  return v->record;
}

void push_view(lua_State* L, Json* node, bool root) {
  auto* v = static_cast<View*>(lua_newuserdatauv(L, sizeof(View), 0));
  const Clock& c = clock_of(L);
  *v = View{node, c.call, c.version, root};
  lua_rawgetp(L, LUA_REGISTRYINDEX, &view_meta_tag);
  lua_setmetatable(L, -2);
}

// Scalars as Lua values, objects and arrays as views.
void push_value(lua_State* L, Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      lua_pushlightuserdata(L, LuaSandbox::null_sentinel());
      return;
    case Json::value_t::boolean:
      lua_pushboolean(L, j.get<bool>() ? 1 : 0);
      return;
    case Json::value_t::number_integer:
      lua_pushinteger(L, j.get<int64_t>());
      return;
    case Json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX))
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      else
        lua_pushnumber(L, static_cast<lua_Number>(u));
      return;
    }
    case Json::value_t::number_float:
      lua_pushnumber(L, j.get<double>());
      return;
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case Json::value_t::object:
    case Json::value_t::array:
      push_view(L, &j, false);
      return;
    default:
      lua_pushnil(L);
      return;
  }
}

// Runs `work` (C++ that may throw and that reports problems in c.error) and
// raises its failure afterwards, once its frames and their destructors are
// gone: a Lua error must not longjmp over live C++ objects.
template <class Work>
int guarded(lua_State* L, Work&& work) {
  Clock& c = clock_of(L);
  bool ok = false;
  try {
    ok = work(c);
  } catch (const std::exception&) {
    c.error.assign("out of memory while changing the record");
  }
  if (ok) return 0;
  luaL_where(L, 1);  // the script's line that made the change
  lua_pushlstring(L, c.error.data(), c.error.size());
  lua_concat(L, 2);
  return lua_error(L);
}

std::string key_text(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING) return "'" + std::string(lua_tostring(L, index)) + "'";
  if (lua_isinteger(L, index)) return "[" + std::to_string(lua_tointeger(L, index)) + "]";
  return std::string("a ") + luaL_typename(L, index) + " key";
}

// t[k] = v on an object or array view.
bool assign(lua_State* L, Json& node, Clock& c) {
  const bool erase = lua_isnil(L, 3);
  Json value;
  if (!erase) {
    std::string problem;
    if (!read_json(L, 3, value, problem)) {
      c.error = "cannot store " + key_text(L, 2) + ": " + problem;
      return false;
    }
  }
  if (node.is_object()) {
    if (lua_type(L, 2) != LUA_TSTRING) {
      c.error = "the keys of an object are strings, not " + key_text(L, 2);
      return false;
    }
    size_t len = 0;
    const char* k = lua_tolstring(L, 2, &len);
    const std::string_view key(k, len);
    if (!simdjson::validate_utf8(k, len)) {
      c.error = "a key that is not valid UTF-8";
      return false;
    }
    auto& obj = node.get_ref<Json::object_t&>();
    auto it = obj.find(key);
    if (it != obj.end() && it->second.is_structured()) ++c.version;  // views into the old value go stale
    if (erase) {
      if (it != obj.end()) obj.erase(it);
    } else if (it == obj.end()) {
      obj.emplace(std::string(key), std::move(value));
    } else {
      it->second = std::move(value);
    }
    return true;
  }
  auto& arr = node.get_ref<Json::array_t&>();
  const lua_Integer n = static_cast<lua_Integer>(arr.size());
  const lua_Integer i = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 0;
  if (i < 1 || i > n + 1 || (erase && i != n && i <= n)) {
    c.error = i >= 1 && i < n ? "cannot leave a hole at [" + std::to_string(i) + "] of an array (use table.remove)"
                              : "index " + key_text(L, 2) + " is outside the array (1.." + std::to_string(n + 1) + ")";
    return false;
  }
  if (i == n + 1) {
    if (erase) return true;
    const Json* before = arr.data();
    arr.push_back(std::move(value));
    if (arr.data() != before) ++c.version;  // the elements moved
    return true;
  }
  Json& slot = arr[static_cast<size_t>(i - 1)];
  if (slot.is_structured()) ++c.version;
  if (erase)
    arr.pop_back();
  else
    slot = std::move(value);
  return true;
}

int view_index(lua_State* L) {
  Json* node = checked_node(L, 1);
  if (node->is_object()) {
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    size_t len = 0;
    const char* k = lua_tolstring(L, 2, &len);
    auto& obj = node->get_ref<Json::object_t&>();
    auto it = obj.find(std::string_view(k, len));
    if (it == obj.end()) return 0;
    push_value(L, it->second);
    return 1;
  }
  if (!lua_isinteger(L, 2)) return 0;
  const lua_Integer i = lua_tointeger(L, 2);
  if (i < 1 || static_cast<size_t>(i) > node->size()) return 0;
  push_value(L, (*node)[static_cast<size_t>(i - 1)]);
  return 1;
}

int view_newindex(lua_State* L) {
  Json* node = checked_node(L, 1);
  return guarded(L, [&](Clock& c) { return assign(L, *node, c); });
}

int view_len(lua_State* L) {
  Json* node = checked_node(L, 1);
  lua_pushinteger(L, node->is_array() ? static_cast<lua_Integer>(node->size()) : 0);
  return 1;
}

// The iterator of pairs(view): keys in order for objects, 1..n for arrays.
int view_next(lua_State* L) {
  Json* node = checked_node(L, 1);
  if (node->is_object()) {
    auto& obj = node->get_ref<Json::object_t&>();
    auto it = obj.begin();
    if (lua_type(L, 2) == LUA_TSTRING) {
      size_t len = 0;
      const char* k = lua_tolstring(L, 2, &len);
      it = obj.upper_bound(std::string_view(k, len));
    }
    if (it == obj.end()) return 0;
    lua_pushlstring(L, it->first.data(), it->first.size());
    push_value(L, it->second);
    return 2;
  }
  const lua_Integer i = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 0;
  if (i < 0 || static_cast<size_t>(i) >= node->size()) return 0;
  lua_pushinteger(L, i + 1);
  push_value(L, (*node)[static_cast<size_t>(i)]);
  return 2;
}

int view_pairs(lua_State* L) {
  checked_node(L, 1);
  lua_pushcfunction(L, view_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int view_tostring(lua_State* L) {
  View* v = to_view(L, 1);
  lua_pushstring(
      L, v && fresh(*v, clock_of(L)) ? (v->node->is_object() ? "json object" : "json array") : "stale json view");
  return 1;
}

bool set_envelope(lua_State* L, Record& r, Clock& c) {
  if (lua_type(L, 2) != LUA_TSTRING) {
    c.error = "a record's fields are named (id, type, source, key, ts, data, meta)";
    return false;
  }
  const std::string_view name = lua_tostring(L, 2);
  if (name == "ts") {
    if (!lua_isinteger(L, 3)) {
      c.error = "record field 'ts' must be an integer (Unix epoch milliseconds)";
      return false;
    }
    r.ts_ms = lua_tointeger(L, 3);
    return true;
  }
  if (name == "data" || name == "meta") {
    Json value;
    std::string problem;
    if (!read_json(L, 3, value, problem) || !value.is_object()) {
      c.error = "record field '" + std::string(name) + "' must be an object" + (problem.empty() ? "" : ": " + problem);
      return false;
    }
    (name == "data" ? r.data : r.meta) = std::move(value);
    ++c.version;
    return true;
  }
  std::string* field = name == "id"       ? &r.id
                       : name == "type"   ? &r.type
                       : name == "source" ? &r.source
                       : name == "key"    ? &r.key
                                          : nullptr;
  if (field == nullptr) {
    c.error = "unknown record field '" + std::string(name) + "' (id, type, source, key, ts, data, meta)";
    return false;
  }
  if (lua_type(L, 3) != LUA_TSTRING) {
    c.error = "record field '" + std::string(name) + "' must be a string, not " + luaL_typename(L, 3);
    return false;
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, 3, &len);
  if (!check_envelope_field(name, std::string_view(s, len), c.error)) return false;
  field->assign(s, len);
  return true;
}

int record_index(lua_State* L) {
  Record* r = checked_record(L, 1);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  size_t len = 0;
  const char* k = lua_tolstring(L, 2, &len);
  const std::string_view name(k, len);
  const std::string* field = name == "id"       ? &r->id
                             : name == "type"   ? &r->type
                             : name == "source" ? &r->source
                             : name == "key"    ? &r->key
                                                : nullptr;
  if (field != nullptr) {
    lua_pushlstring(L, field->data(), field->size());
  } else if (name == "ts") {
    lua_pushinteger(L, r->ts_ms);
  } else if (name == "data") {
    push_view(L, &r->data, true);
  } else if (name == "meta") {
    push_view(L, &r->meta, true);
  } else {
    return 0;
  }
  return 1;
}

int record_newindex(lua_State* L) {
  Record* r = checked_record(L, 1);
  return guarded(L, [&](Clock& c) { return set_envelope(L, *r, c); });
}

int record_tostring(lua_State* L) {
  lua_pushstring(L, "record");
  return 1;
}

// json_type(v): "object", "array", "string", "number", "boolean", "null" or
// "nil"; views and plain tables alike, since type() says "userdata" for views.
int json_type(lua_State* L) {
  switch (lua_type(L, 1)) {
    case LUA_TUSERDATA:
      if (View* v = to_view(L, 1)) {
        lua_pushstring(L, !fresh(*v, clock_of(L)) ? "stale" : v->node->is_object() ? "object" : "array");
        return 1;
      }
      lua_pushstring(L, to_record_view(L, 1) ? "record" : "userdata");
      return 1;
    case LUA_TLIGHTUSERDATA:
      lua_pushstring(L, lua_touserdata(L, 1) == LuaSandbox::null_sentinel() ? "null" : "userdata");
      return 1;
    case LUA_TTABLE: {
      lua_pushnil(L);
      const bool empty = lua_next(L, 1) == 0;
      const bool array =
          has_metatable(L, 1, LuaSandbox::array_meta_key()) || (!empty && lua_type(L, -2) == LUA_TNUMBER);
      lua_settop(L, 1);
      lua_pushstring(L, array ? "array" : "object");
      return 1;
    }
    default:
      lua_pushstring(L, luaL_typename(L, 1));
      return 1;
  }
}

void new_metatable(lua_State* L, const void* key, const char* name, std::initializer_list<luaL_Reg> methods) {
  lua_createtable(L, 0, static_cast<int>(methods.size()) + 1);
  for (const luaL_Reg& m : methods) {
    lua_pushcfunction(L, m.func);
    lua_setfield(L, -2, m.name);
  }
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

}  // namespace

void open_views(lua_State* L) {
  new_metatable(L, &view_meta_tag, "json view",
                {{"__index", view_index},
                 {"__newindex", view_newindex},
                 {"__len", view_len},
                 {"__pairs", view_pairs},
                 {"__tostring", view_tostring}});
  new_metatable(L, &record_meta_tag, "record",
                {{"__index", record_index}, {"__newindex", record_newindex}, {"__tostring", record_tostring}});
  lua_pushcfunction(L, json_type);
  lua_setglobal(L, "json_type");
}

void push_record_view(lua_State* L, Record& record) {
  auto* v = static_cast<RecordView*>(lua_newuserdatauv(L, sizeof(RecordView), 0));
  *v = RecordView{&record, clock_of(L).call};
  lua_rawgetp(L, LUA_REGISTRYINDEX, &record_meta_tag);
  lua_setmetatable(L, -2);
}

void end_views(lua_State* L) noexcept {
  Clock& c = clock_of(L);
  ++c.call;
  c.version = 0;
}

Record* record_of_view(lua_State* L, int index) noexcept {
  RecordView* v = to_record_view(L, index);
  return v != nullptr && v->call == clock_of(L).call ? v->record : nullptr;
}

const Json* node_of_view(lua_State* L, int index, bool& stale) noexcept {
  stale = false;
  View* v = to_view(L, index);
  if (v == nullptr) return nullptr;
  if (!fresh(*v, clock_of(L))) {
    stale = true;
    return nullptr;
  }
  return v->node;
}

}  // namespace touchpoint::core::transform
