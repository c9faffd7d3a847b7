#include "transform/lua_sandbox.hpp"

#include <cstdlib>
#include <stdexcept>

#include "transform/lua_view.hpp"

namespace touchpoint::core::transform {
namespace {

// The hook fires every this many VM instructions: often enough to stop a
// runaway loop within microseconds, rare enough to cost nothing measurable.
constexpr int kHookEvery = 1000;

char null_tag;
char array_meta_tag;
char reject_meta_tag;

void set_metatable(lua_State* L, const void* key) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  lua_setmetatable(L, -2);
}

void new_metatable(lua_State* L, const void* key, const char* name) {
  lua_createtable(L, 0, 1);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

// reject(reason): stops the script; the record goes to the dead-letter store
// with `reason`. The error object is a marked table so that it is told apart
// from a script's own bug (which is rejected too, but with Lua's message).
int lua_reject(lua_State* L) {
  const char* reason = luaL_optstring(L, 1, "rejected by the script");
  lua_createtable(L, 1, 0);
  lua_pushstring(L, reason);
  lua_rawseti(L, -2, 1);  // read back with lua_rawgeti, which cannot raise
  set_metatable(L, LuaSandbox::reject_meta_key());
  return lua_error(L);
}

// array([t]): marks a table as a JSON array, so that an empty one stays [].
int lua_array(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  set_metatable(L, LuaSandbox::array_meta_key());
  return 1;
}

// Opens only what cannot reach outside the state: no io, os, package,
// debug; no load/dofile/loadfile/require (no code from files or strings at
// run time) and no string.dump (bytecode is not verified by Lua).
int open_sandbox(lua_State* L) {
  const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                           {LUA_STRLIBNAME, luaopen_string},
                           {LUA_TABLIBNAME, luaopen_table},
                           {LUA_MATHLIBNAME, luaopen_math},
                           {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (const luaL_Reg& lib : libs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  for (const char* name : {"dofile", "loadfile", "load", "require", "collectgarbage", "print"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  new_metatable(L, LuaSandbox::array_meta_key(), "array");
  new_metatable(L, LuaSandbox::reject_meta_key(), "reject");
  lua_pushlightuserdata(L, LuaSandbox::null_sentinel());
  lua_setglobal(L, "null");
  lua_pushcfunction(L, lua_reject);
  lua_setglobal(L, "reject");
  lua_pushcfunction(L, lua_array);
  lua_setglobal(L, "array");
  open_views(L);
  return 0;
}

std::string error_text(lua_State* L) {
  if (lua_type(L, -1) == LUA_TSTRING) return lua_tostring(L, -1);
  if (lua_type(L, -1) == LUA_TTABLE) return "reject() called while the script was loading";
  if (lua_type(L, -1) == LUA_TNIL) return "not enough memory";
  return std::string("error object is a ") + luaL_typename(L, -1) + " value";
}

}  // namespace

const void* LuaSandbox::array_meta_key() noexcept { return &array_meta_tag; }
const void* LuaSandbox::reject_meta_key() noexcept { return &reject_meta_tag; }

void* LuaSandbox::null_sentinel() noexcept { return &null_tag; }

LuaSandbox& LuaSandbox::of(lua_State* L) noexcept {
  void* self = nullptr;
  lua_getallocf(L, &self);
  return *static_cast<LuaSandbox*>(self);
}

void* LuaSandbox::allocate(void* self_ptr, void* ptr, size_t old_size, size_t new_size) noexcept {
  auto* self = static_cast<LuaSandbox*>(self_ptr);
  if (ptr == nullptr) old_size = 0;  // then old_size is a type tag, not a size
  if (new_size == 0) {
    std::free(ptr);
    self->used_ -= old_size;
    return nullptr;
  }
  if (new_size > old_size && self->used_ - old_size + new_size > self->limits_.memory_bytes) return nullptr;
  void* p = std::realloc(ptr, new_size);
  if (p == nullptr) return nullptr;
  self->used_ = self->used_ - old_size + new_size;
  return p;
}

void LuaSandbox::count_hook(lua_State* L, lua_Debug* /*ar*/) {
  void* self_ptr = nullptr;
  lua_getallocf(L, &self_ptr);
  auto* self = static_cast<LuaSandbox*>(self_ptr);
  self->executed_ += kHookEvery;
  if (self->executed_ > self->limits_.instructions)
    luaL_error(L, "instruction limit of %I exceeded", static_cast<lua_Integer>(self->limits_.instructions));
}

LuaSandbox::LuaSandbox(std::string_view code, const std::string& chunk_name, LuaLimits limits) : limits_(limits) {
  L_ = lua_newstate(&LuaSandbox::allocate, this);
  if (L_ == nullptr) throw std::runtime_error("cannot create a Lua state");
  // Most tables live for one record: the generational collector suits that.
  lua_gc(L_, LUA_GCGEN, 0, 0);
  lua_pushcfunction(L_, open_sandbox);
  if (lua_pcall(L_, 0, 0, 0) != LUA_OK) {
    std::string why = error_text(L_);
    lua_close(L_);
    throw std::runtime_error(why);
  }
  lua_sethook(L_, &LuaSandbox::count_hook, LUA_MASKCOUNT, kHookEvery);
  const std::string name = "=" + chunk_name;
  reset_budget();
  if (luaL_loadbufferx(L_, code.data(), code.size(), name.c_str(), "t") != LUA_OK || lua_pcall(L_, 0, 0, 0) != LUA_OK) {
    std::string why = error_text(L_);
    lua_close(L_);
    throw std::runtime_error(why);
  }
}

LuaSandbox::~LuaSandbox() { lua_close(L_); }

}  // namespace touchpoint::core::transform
