#include "admin/tap_routes.hpp"

#include <charconv>
#include <chrono>
#include <ostream>

#include "pipeline/tap.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kHeartbeat{1000};  // an idle stream still notices a client that left

// A bounded integer parameter: `fallback` when absent, nullopt when malformed or out of range.
std::optional<uint64_t> number(const AdminRequest& r, const char* name, uint64_t fallback, uint64_t lo, uint64_t hi) {
  const std::string s = r.query_value(name);
  if (s.empty()) return fallback;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

std::string point_name(const Pipeline& p, size_t point) {
  if (point == 0) return "as read from the source";
  return "after " + p.steps[point - 1].name;
}

void write_line(std::ostream& out, const std::string& line) {
  out << line << '\n';
  out.flush();
}

}  // namespace

void add_tap_routes(AdminServer& server, TapRouteHandlers h) {
  server.route("GET", "/v1/tap", [h](const AdminRequest& r) {
    const std::string name = r.query_value("pipeline");
    if (name.empty()) return AdminResponse::error(400, "pipeline is required");
    PipelinePtr p = h.pipeline(name);
    if (!p) return AdminResponse::error(404, "no running pipeline '" + name + "'");
    const auto step = number(r, "step", p->steps.size(), 0, p->steps.size());
    if (!step)
      return AdminResponse::error(
          400, "step must be an integer from 0 to " + std::to_string(p->steps.size()) + " (the pipeline's steps)");
    const auto limit = number(r, "limit", 100, 1, 1'000'000);
    if (!limit) return AdminResponse::error(400, "limit must be an integer from 1 to 1000000");
    const auto seconds = number(r, "seconds", 60, 1, 86'400);
    if (!seconds) return AdminResponse::error(400, "seconds must be an integer from 1 to 86400");
    const std::string pii = r.query_value("pii");
    if (!pii.empty() && pii != "allow" && pii != "mask") return AdminResponse::error(400, "pii must be allow or mask");

    Tap::Options o;
    o.pipeline = name;
    o.point = *step;
    o.allow_pii = pii == "allow";
    std::shared_ptr<Tap> tap = TapHub::process().open(o);
    if (!tap) {
      AdminResponse busy = AdminResponse::error(
          429, "at most " + std::to_string(TapHub::kMaxTaps) + " taps can be open at once; try again later");
      busy.headers.emplace_back("Retry-After", "5");
      return busy;
    }
    if (h.audit) h.audit(r, "tap", Json{{"pipeline", name}, {"step", *step}, {"pii", o.allow_pii ? "allow" : "mask"}});
    log::info("admin", "tap opened on " + name + " " + point_name(*p, *step) + " by " + r.token_name +
                           (o.allow_pii ? " (PII shown)" : ""));

    AdminResponse res;
    res.content_type = "application/x-ndjson";
    const Json head = {{"tap", "open"},
                       {"pipeline", name},
                       {"step", *step},
                       {"at", point_name(*p, *step)},
                       {"pii", o.allow_pii ? "shown" : "masked"},
                       {"limit", *limit},
                       {"seconds", *seconds}};
    res.stream = [tap, head, limit = *limit, seconds = *seconds, name](std::ostream& out) {
      // However the stream ends, the tap closes with it.
      struct Closer {
        std::shared_ptr<Tap> tap;
        ~Closer() { TapHub::process().close(tap); }
      } closer{tap};
      const Clock::time_point end = Clock::now() + std::chrono::seconds(seconds);
      uint64_t sent = 0;
      std::string reason = "time";
      write_line(out, head.dump());
      while (out && Clock::now() < end) {
        const auto wait = std::min<Clock::duration>(kHeartbeat, end - Clock::now());
        std::vector<std::string> lines = tap->take(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
        if (lines.empty()) {
          write_line(out, "");  // heartbeat: fails once the client is gone
          continue;
        }
        for (const std::string& line : lines) {
          if (sent == limit) break;
          out << line << '\n';
          ++sent;
        }
        out.flush();
        if (sent == limit) {
          reason = "limit";
          break;
        }
      }
      if (!out) {
        log::info("admin",
                  "tap on " + name + " ended: the client went away after " + std::to_string(sent) + " record(s)");
        return;
      }
      write_line(out, Json{{"tap", "end"}, {"reason", reason}, {"records", sent}, {"dropped", tap->dropped()}}.dump());
    };
    return res;
  });
}

}  // namespace touchpoint::core
