#pragma once
// Records between JSON and Lua tables, as the `lua` step's scripts see them
// (docs/lua.md): { id, type, source, key, ts, data = {...}, meta = {...} }.
// JSON null is the global `null`; JSON arrays carry the array metatable, so
// an empty one comes back as [] and not as {}.

#include <lua.hpp>
#include <string>
#include <string_view>

#include "record/record.hpp"

namespace touchpoint::core::transform {

/// Reads the Lua value at `index` as JSON: tables (by their keys, or the
/// array mark), views of the record (copied), strings, numbers, booleans,
/// `null`. Never raises; false with `problem` for a value JSON cannot hold.
bool read_json(lua_State* L, int index, Json& out, std::string& problem);

/// Whether `value` may be the envelope field `name` (id, type, source, key):
/// the limits and rules the host applies to a plugin's records.
bool check_envelope_field(std::string_view name, std::string_view value, std::string& problem);

/// Reads the record table at `index` into `out`, starting from `base` for the
/// envelope fields the table leaves out. Never raises a Lua error; returns
/// false with `problem` set when the table is not a valid record (a field of
/// the wrong type, a function value, NaN, invalid UTF-8, nesting too deep,
/// a table mixing string and number keys).
bool read_record(lua_State* L, int index, const Record& base, Record& out, std::string& problem);

/// Makes `record` what the table at `index` says, changing only what differs
/// (a script that edits a field or two costs little on a large record).
/// Envelope fields the table leaves out stay as they are; data or meta left
/// out become empty. Never raises; on false the record may be half-updated.
bool update_record(lua_State* L, int index, Record& record, std::string& problem);

/// Whether the value at `index` has the metatable registered under `key`
/// (LuaSandbox::array_meta_key and the like); never raises.
bool has_metatable(lua_State* L, int index, const void* key);

}  // namespace touchpoint::core::transform
