#pragma once
// What a `lua` step's script gets: views of the record, not copies. The
// record is a userdata whose fields read and write the Record; `r.data`,
// `r.meta` and every object or array under them are views of the JSON in
// place. Reading a field costs one lookup; nothing the script does not touch
// is converted, so a script costs what it does, not what the record weighs.
//
// A view lives for one call. It goes stale when the call ends, and a view of
// a nested value also when a container above or beside it is replaced or an
// array grows (the JSON node it points to may move); using a stale view is a
// Lua error, never a dangling pointer.

#include <lua.hpp>

#include "record/record.hpp"

namespace touchpoint::core::transform {

/// Registers the view metatables and the global json_type(); inside the
/// sandbox's protected set-up.
void open_views(lua_State* L);

/// Pushes the view of `record` for one call (raises on memory: protected only).
void push_record_view(lua_State* L, Record& record);

/// Ends the views of the current call: every view pushed so far goes stale.
void end_views(lua_State* L) noexcept;

/// The record viewed by the record view at `index`, or nullptr (never raises).
Record* record_of_view(lua_State* L, int index) noexcept;

/// The JSON node viewed by the object/array view at `index`; nullptr when
/// the value is not a view, and `stale` set when it is one that went stale.
const Json* node_of_view(lua_State* L, int index, bool& stale) noexcept;

}  // namespace touchpoint::core::transform
