#include "pipeline/batch_builder.hpp"

#include "journal/unit_codec.hpp"
#include "pipeline/step_runner.hpp"
#include "util/clock.hpp"

namespace touchpoint::core {
namespace {

Record to_record(const journal::RecordView& v, std::string_view source) {
  Record r;
  r.id = std::string(v.id);
  r.type = std::string(v.type);
  r.source = std::string(source);
  r.key = std::string(v.key);
  r.ts_ms = v.ts_ms;
  r.data = Json::parse(v.data);
  r.meta = v.meta.empty() ? Json::object() : Json::parse(v.meta);
  return r;
}

}  // namespace

DeadLetter make_dead_letter(std::string record_id, std::string pipeline, std::string step, std::string cls,
                            std::string reason, std::string payload) {
  DeadLetter d;
  d.record_id = std::move(record_id);
  d.pipeline = std::move(pipeline);
  d.step = std::move(step);
  d.error_class = std::move(cls);
  d.reason = std::move(reason);
  d.payload = std::move(payload);
  d.first_ms = d.last_ms = now_ms();
  return d;
}

void route(const PipelinePtr& pp, Record rec, const std::function<std::string()>& original, ApplyBatch& batch,
           BatchCounters& counters, int prior_attempts, int64_t first_ms) {
  const Pipeline& p = *pp;
  // A record a step emitted ends here too; a reject of it dead-letters the
  // original it came from, so a replay makes it again.
  run_all_steps(p, std::move(rec), [&](Record& r, const StepOutcome& o) {
    counters.step_outcome(pp, o);
    if (o.kind == StepResult::Kind::drop) return;
    const int64_t now = now_ms();
    if (o.kind == StepResult::Kind::reject) {
      DeadLetter d;
      d.record_id = r.id;
      d.pipeline = p.name;
      d.step = p.steps[o.step_index].name;
      d.error_class = o.code;
      d.reason = o.reason;
      d.payload = original();
      d.attempts = prior_attempts + 1;
      d.first_ms = first_ms ? first_ms : now;
      d.last_ms = now;
      batch.dead_letters.push_back(std::move(d));
      counters.dead_letter(pp, o.step_index);
      return;
    }
    if (p.has_record_sinks) {
      std::string envelope = to_json(r).dump();
      for (const SinkUse& s : p.sinks) {
        if (!s.channel.empty() || s.feedback) continue;  // they get contacts or feedback only
        OutboxItem item;
        item.sink = s.plugin.instance;
        item.pipeline = p.name;
        item.record_id = r.id;
        item.envelope = envelope;
        item.next_ms = now;
        item.first_ms = now;
        batch.outbox.push_back(std::move(item));
      }
    }
    counters.record_out(pp);
    if (p.to_store) batch.records.push_back({std::move(r), p.name});
  });
}

void read_journal(journal::JournalReader& reader, const Routes& routes, size_t max_records, PreparedBatch& out) {
  ApplyBatch& batch = out.batch;
  size_t records = 0;
  while (records < max_records && reader.next()) {
    ++out.entries;
    const uint64_t seq = reader.seq();
    batch.journal_seq = seq;
    journal::UnitView u;
    try {
      u = journal::decode_unit(reader.payload());
    } catch (const std::exception& e) {
      batch.dead_letters.push_back(make_dead_letter(
          "", "", "journal", "malformed", "undecodable journal entry " + std::to_string(seq) + ": " + e.what(), ""));
      continue;
    }
    const std::string source(u.source);
    auto it = routes.find(source);
    for (const journal::RecordView& v : u.records) {
      ++records;
      Record rec;
      try {
        rec = to_record(v, u.source);
      } catch (const std::exception& e) {
        batch.dead_letters.push_back(
            make_dead_letter(std::string(v.id), source, "decode", "malformed", e.what(), std::string(v.data)));
        continue;
      }
      if (it == routes.end()) {
        batch.dead_letters.push_back(make_dead_letter(
            rec.id, source, "route", "no_pipeline",
            "pipeline '" + source + "' is not configured (removed?); restore it and replay", to_json(rec).dump()));
        continue;
      }
      // The untouched envelope, rebuilt from the journal bytes only for a reject.
      route(
          it->second, std::move(rec), [&] { return to_json(to_record(v, u.source)).dump(); }, batch, out.counters, 0,
          0);
    }
    for (const journal::RejectView& r : u.rejects) {
      DeadLetter d = make_dead_letter("", source, "source", "malformed", std::string(r.reason), std::string(r.raw));
      d.location = std::string(r.location);
      batch.dead_letters.push_back(std::move(d));
      out.counters.add("touchpoint_dead_letters_total", "pipeline=" + source + ",step=source");
    }
    if (!u.cursor.empty()) batch.checkpoints[source] = std::string(u.cursor);
  }
}

}  // namespace touchpoint::core
