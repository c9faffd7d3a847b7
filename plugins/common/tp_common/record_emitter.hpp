// Hands a ParsedBatch to the host as one durable unit.
//
// This goes through the C ABI directly rather than touchpoint::Host::emit:
// the tp_record views point straight into the batch's arena (the host copies
// every buffer before emit returns), so no per-record std::string is built.
#ifndef TP_COMMON_RECORD_EMITTER_HPP
#define TP_COMMON_RECORD_EMITTER_HPP

#include <touchpoint/abi.h>

#include <span>
#include <string>
#include <touchpoint/plugin.hpp>
#include <vector>

#include "tp_common/body_parser.hpp"

namespace tp_common {

/// Emits all records of `batch` in one unit, with `rejects` (dead letters of
/// the same input) beside them. `scratch` is reusable storage for the record
/// views. Returns TP_OK (done(user, ...) follows exactly once, from a host
/// thread) or the host's refusal (done is never called; the host's message is
/// stored in `error`).
tp_status emit_batch(const touchpoint::Host& host, const ParsedBatch& batch, std::vector<tp_record>& scratch,
                     tp_emit_done_fn done, void* user, std::string& error, std::span<const tp_reject> rejects = {});

}  // namespace tp_common

#endif  // TP_COMMON_RECORD_EMITTER_HPP
