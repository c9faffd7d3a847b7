#pragma once
// Turns journal entries into an ApplyBatch: decodes each record, runs it
// through its pipeline's transforms and sorts the results into store rows,
// outbox entries and dead letters. Touches no store: the applier builds the
// next batch with this while the store thread commits the previous one.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "config/pipeline_config.hpp"
#include "journal/journal_reader.hpp"
#include "pipeline/batch_counters.hpp"
#include "store/store.hpp"

namespace touchpoint::core {

using Routes = std::map<std::string, PipelinePtr>;

/// A batch ready for Store::apply, with what it consumed from the journal.
struct PreparedBatch {
  ApplyBatch batch;
  BatchCounters counters;
  size_t entries = 0;  ///< journal entries consumed
};

/// Routes one record that is ready for its pipeline into the batch.
/// `original` returns the untouched envelope; it is called only when a step
/// rejects the record (a dead letter must replay from the original).
void route(const PipelinePtr& p, Record rec, const std::function<std::string()>& original, ApplyBatch& batch,
           BatchCounters& counters, int prior_attempts, int64_t first_ms);

/// Reads entries until `max_records` records are in or the journal has no
/// more durable entries. batch.journal_seq is the last entry read (or stays).
void read_journal(journal::JournalReader& reader, const Routes& routes, size_t max_records, PreparedBatch& out);

DeadLetter make_dead_letter(std::string record_id, std::string pipeline, std::string step, std::string cls,
                            std::string reason, std::string payload);

}  // namespace touchpoint::core
