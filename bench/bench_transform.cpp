// bench_transform: in-process throughput of the transform steps, one by one
// and as the chain bench_ingest configures, plus the per-record JSON work the
// applier and the SQLite store do around the chain (parse, envelope dump,
// data dump). All of it runs on the single applier thread in the hub, so the
// sum is a floor for the hub's per-record apply cost. See bench/README.md.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/pipeline_config.hpp"
#include "customer_data.hpp"
#include "pipeline/step_runner.hpp"
#include "pipeline/tap.hpp"
#include "record/json_text.hpp"
#include "record/record.hpp"
#include "transform/transform.hpp"

namespace {

using touchpoint::core::ConfigSource;
using touchpoint::core::Json;
using touchpoint::core::Record;
using touchpoint::core::Step;
using touchpoint::core::StepResult;
using Clock = std::chrono::steady_clock;

// The same chain as bench_ingest's pipeline.
constexpr const char* kChain = R"(
- rename: { mail: email, tel: phone }
- normalize_email: { field: email }
- normalize_phone: { field: phone, default_region: DE, on_invalid: remove }
- default: { channel: web, country: DE }
- require: { fields: { email: { type: string }, customer_id: { type: string } } }
)";

struct Options {
  size_t records = 20'000;   ///< distinct records in the working set
  double min_seconds = 0.5;  ///< each measurement repeats over the set for at least this long
  bool json = false;
};

[[noreturn]] void usage(int code) {
  std::cout << "usage: bench_transform [--records N] [--min-time SECONDS] [--json]\n"
               "  --records N        distinct records in the working set (default 20000)\n"
               "  --min-time S       repeat each measurement for at least S seconds (default 0.5)\n"
               "  --json             one JSON line instead of the table\n";
  std::exit(code);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--records") {
      o.records = std::strtoull(value().c_str(), nullptr, 10);
      if (o.records == 0) usage(2);
    } else if (a == "--min-time") {
      o.min_seconds = std::strtod(value().c_str(), nullptr);
      if (!(o.min_seconds > 0)) usage(2);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::cerr << "bench_transform: unknown option " << a << "\n";
      usage(2);
    }
  }
  return o;
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Rates are per CPU-second of this thread, so a busy machine (other builds on
/// the same cores) slows the run down but hardly changes the figures; wall-clock
/// figures are kept for comparison.
struct Measurement {
  std::string name;
  double records_per_s = 0;  ///< per CPU-second
  double ns_per_record = 0;  ///< CPU
  double wall_ns_per_record = 0;
  size_t kept = 0, dropped = 0, rejected = 0;  ///< for steps: outcomes over one pass
};

/// Runs `pass` (over all n records, with an untimed `prepare` before each) until min_seconds of timed CPU.
Measurement measure(const std::string& name, size_t n, double min_seconds, const std::function<void()>& prepare,
                    const std::function<void()>& pass) {
  prepare();
  pass();  // warm-up: lazily built state (libphonenumber compiles its regular expressions on first use)
  double cpu = 0, wall = 0;
  size_t passes = 0;
  while (cpu < min_seconds || passes < 2) {
    prepare();
    const auto t0 = Clock::now();
    const double c0 = thread_cpu_seconds();
    pass();
    cpu += thread_cpu_seconds() - c0;
    wall += std::chrono::duration<double>(Clock::now() - t0).count();
    ++passes;
  }
  Measurement m;
  m.name = name;
  const double total = static_cast<double>(n * passes);
  m.records_per_s = total / cpu;
  m.ns_per_record = cpu / total * 1e9;
  m.wall_ns_per_record = wall / total * 1e9;
  return m;
}

Record to_record(const std::string& json, size_t i) {
  Record r;
  r.id = "web-" + touchpoint::bench::digits(i, 9);
  r.type = "profile";
  r.source = "bench-signups";
  r.key = "C" + touchpoint::bench::digits(i, 9);
  r.ts_ms = 1'700'000'000'000;
  r.data = Json::parse(json);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);

  // The working set: the records bench_ingest posts, as compact JSON and parsed.
  std::vector<std::string> raw;
  raw.reserve(o.records);
  touchpoint::bench::Rng rng{0x70c4'9017};
  for (size_t i = 0; i < o.records; ++i) {
    std::string s;
    touchpoint::bench::append_record(s, i, rng);
    raw.push_back(std::move(s));
  }
  std::vector<Record> input;
  input.reserve(o.records);
  for (size_t i = 0; i < raw.size(); ++i) input.push_back(to_record(raw[i], i));

  YAML::Node list = YAML::Load(kChain);
  std::vector<Step> steps;
  for (size_t i = 0; i < list.size(); ++i)
    steps.push_back(touchpoint::core::make_step(list[i], i, ConfigSource("bench-signups.yaml")));

  std::vector<Measurement> results;
  std::vector<Record> work;
  auto reset_to = [&](const std::vector<Record>& from) { return [&work, &from] { work = from; }; };
  const size_t n = o.records;

  // 1. What the applier does before the chain: JSON text -> Record (Json::parse of data).
  {
    std::vector<Record> parsed(n);
    results.push_back(measure(
        "parse data (applier to_record)", n, o.min_seconds, [] {},
        [&] {
          for (size_t i = 0; i < n; ++i) parsed[i].data = Json::parse(raw[i]);
        }));
  }
  // 2. The applier keeps the untouched envelope of every record, in case a step rejects it.
  {
    size_t bytes = 0;
    results.push_back(measure(
        "to_json(rec).dump() (applier, per record)", n, o.min_seconds, [] {},
        [&] {
          for (const Record& r : input) bytes += touchpoint::core::to_json(r).dump().size();
        }));
    if (bytes == 0) return 1;
  }

  // 3. Each step alone, fed with the output of the steps before it.
  std::vector<Record> stage = input;
  for (const Step& s : steps) {
    Measurement m = measure("step " + s.name, n, o.min_seconds, reset_to(stage), [&] {
      for (Record& r : work) (void)s.transform->apply(r);
    });
    std::vector<Record> next;
    next.reserve(n);
    for (Record r : stage) {
      StepResult res = s.transform->apply(r);
      if (res.kind == StepResult::Kind::keep) {
        ++m.kept;
        next.push_back(std::move(r));
      } else if (res.kind == StepResult::Kind::drop) {
        ++m.dropped;
      } else {
        ++m.rejected;
      }
    }
    results.push_back(std::move(m));
    stage = std::move(next);
  }
  size_t phones = 0;
  for (const Record& r : stage) phones += r.data.contains("phone") ? 1 : 0;

  // 4. The whole chain, as run_steps does it (stop at the first non-keep).
  {
    size_t kept = 0;
    Measurement m = measure("chain (5 steps)", n, o.min_seconds, reset_to(input), [&] {
      for (Record& r : work) {
        bool keep = true;
        for (const Step& s : steps) {
          if (s.transform->apply(r).kind != StepResult::Kind::keep) {
            keep = false;
            break;
          }
        }
        kept += keep ? 1 : 0;
      }
    });
    m.kept = stage.size();
    m.rejected = n - stage.size();
    results.push_back(std::move(m));
    if (kept == 0) return 1;
  }
  // 4b. The same chain through run_steps, the router's path, with the tap
  // check on every step: nobody watching, a tap on another pipeline (every
  // step looks the taps up), and a masked tap on this chain's output whose
  // reader never reads (each record is rendered, then dropped).
  {
    touchpoint::core::Pipeline p;
    p.name = "bench-signups";
    p.record_budget = std::chrono::hours(1);
    for (size_t i = 0; i < list.size(); ++i)
      p.steps.push_back(touchpoint::core::make_step(list[i], i, ConfigSource("bench-signups.yaml")));
    auto& taps = touchpoint::core::TapHub::process();
    auto chain = [&](const char* name) {
      results.push_back(measure(name, n, o.min_seconds, reset_to(input), [&] {
        for (Record& r : work) (void)touchpoint::core::run_steps(p, r);
      }));
    };
    chain("run_steps, no tap open");
    auto elsewhere = taps.open({"another-pipeline", 0, false});
    chain("run_steps, a tap on another pipeline");
    taps.close(elsewhere);
    auto here = taps.open({"bench-signups", p.steps.size(), false, 1, 1u << 20});
    chain("run_steps, masked tap on the output (full)");
    taps.close(here);
  }
  // 5. What the SQLite store serialises per applied profile: data (twice: records row and profile patch) and meta.
  {
    size_t bytes = 0;
    results.push_back(measure(
        "data.dump() x2 + meta (store, per record)", stage.size(), o.min_seconds, [] {},
        [&] {
          for (const Record& r : stage) {
            bytes += r.data.dump().size() + r.data.dump().size();
            bytes += r.meta.empty() ? 2 : r.meta.dump().size();
          }
        }));
    if (bytes == 0) return 1;
    // The same through core/record/json_text, which the store uses.
    results.push_back(measure(
        "json_text(data) x2 + meta (store, per record)", stage.size(), o.min_seconds, [] {},
        [&] {
          for (const Record& r : stage) {
            bytes += touchpoint::core::json_text(r.data).size() + touchpoint::core::json_text(r.data).size();
            bytes += r.meta.empty() ? 2 : touchpoint::core::json_text(r.meta).size();
          }
        }));
  }
  // 6. Copying a Record (the applier moves, but this bounds nlohmann allocation cost).
  {
    std::vector<Record> copy;
    copy.reserve(n);
    results.push_back(measure(
        "Record copy (allocation cost)", n, o.min_seconds, [&] { copy.clear(); },
        [&] {
          for (const Record& r : input) copy.push_back(r);
        }));
  }

  // 7. The lua step against a built-in doing part of the same work, on the
  // chain's output (the records a step after the chain would see). "return r"
  // alone is the cost of handing the record to Lua and back.
  {
    const std::pair<const char*, const char*> lua_steps[] = {
        {"step lua: return r", "lua: { source: 'function process(r) return r end' }"},
        {"step lua: 5-line script", R"(lua:
  source: |
    function process(r)
      local d = r.data
      if d.country == nil then d.country = "DE" end
      d.segment = (d.channel == "web") and "online" or "offline"
      return r
    end
)"},
        {"step default (built-in)", "default: { country: DE, segment: online }"},
    };
    for (const auto& [name, yaml] : lua_steps) {
      Step s = touchpoint::core::make_step(YAML::Load(yaml), 5, ConfigSource("bench-signups.yaml"));
      Measurement m = measure(name, stage.size(), o.min_seconds, reset_to(stage), [&] {
        for (Record& r : work) (void)s.transform->apply(r);
      });
      for (Record r : stage) {
        const StepResult res = s.transform->apply(r);
        m.kept += res.kind == StepResult::Kind::keep ? 1 : 0;
        m.rejected += res.kind == StepResult::Kind::reject ? 1 : 0;
      }
      results.push_back(std::move(m));
    }
  }

  double applier_ns = 0;
  for (const Measurement& m : results)
    if (m.name.rfind("step ", 0) != 0 && m.name.rfind("Record copy", 0) != 0 && m.name.rfind("run_steps", 0) != 0)
      applier_ns += m.ns_per_record;

  if (o.json) {
    Json j = Json::object();
    j["records"] = n;
    j["applier_floor_ns_per_record"] = applier_ns;
    j["applier_floor_records_per_s"] = 1e9 / applier_ns;
    j["phones_kept"] = phones;
    Json arr = Json::array();
    for (const Measurement& m : results)
      arr.push_back(Json{{"name", m.name},
                         {"records_per_s", m.records_per_s},
                         {"ns_per_record", m.ns_per_record},
                         {"wall_ns_per_record", m.wall_ns_per_record},
                         {"kept", m.kept},
                         {"dropped", m.dropped},
                         {"rejected", m.rejected}});
    j["measurements"] = arr;
    std::cout << j.dump() << std::endl;
    return 0;
  }
  std::printf("transform throughput, one thread, %zu distinct records (avg %.0f B JSON); rates per CPU-second\n", n,
              [&] {
                size_t b = 0;
                for (const std::string& s : raw) b += s.size();
                return static_cast<double>(b) / static_cast<double>(n);
              }());
  std::printf("  %-44s %12s %10s %10s  %s\n", "measurement", "records/s", "ns/record", "wall ns", "outcome (one pass)");
  for (const Measurement& m : results) {
    std::string outcome;
    if (m.name.rfind("step ", 0) == 0 || m.name.rfind("chain", 0) == 0)
      outcome = std::to_string(m.kept) + " kept, " + std::to_string(m.dropped) + " dropped, " +
                std::to_string(m.rejected) + " rejected";
    std::printf("  %-44s %12.0f %10.0f %10.0f  %s\n", m.name.c_str(), m.records_per_s, m.ns_per_record,
                m.wall_ns_per_record, outcome.c_str());
  }
  std::printf("  %zu of %zu records keep a valid phone after normalize_phone\n", phones, stage.size());
  std::printf("  applier floor (parse + envelope + chain + store dumps): %.0f ns/record = %.0f records/s per core\n",
              applier_ns, 1e9 / applier_ns);
  return 0;
}
