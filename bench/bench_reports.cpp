// bench_reports: the reports of docs/reports.md against a large store.
//
//   bench_reports [--dir D] [--profiles N] [--events E] [--contacts C] [--reuse] [--runs R]
//
// Builds (unless --reuse finds one) a store of N live profiles, E timeline
// events and C contacts through the storage interface, with the counters the
// hub keeps: the contact history fires the funnel triggers, and every
// purchase among the events is credited by the customer model's own
// conversion code (customer/conversion_credit.cpp). Then times each report
// R times through ReportService, exactly what GET /v1/reports/<kind> runs,
// and the data-quality refresh (the scheduled scan). Prints one line of
// figures per step; bench/README.md has the results.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench_args.hpp"
#include "customer/conversion_credit.hpp"
#include "report/attribution.hpp"
#include "report/report_service.hpp"
#include "store/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace touchpoint;
using Clock = std::chrono::steady_clock;

using bench::num;
using bench::peak_rss_mib;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 1'764'547'200'000;  // 2025-12-01T00:00:00Z
constexpr int kCampaigns = 40;
const char* kChannels[] = {"email", "phone", "sms", "post"};
const char* kProducts[] = {"credit-card", "savings", "insurance", "loan", "current-account"};
const char* kEventTypes[] = {"web_visit", "branch_visit", "app_login", "message_sent", "newsletter_read"};

void build(core::Store& store, size_t profiles, size_t events, size_t contacts) {
  std::mt19937_64 rng(42);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  const core::report::ConversionConfig conversions;
  const size_t events_per = std::max<size_t>(1, events / profiles);
  const size_t contacts_per = std::max<size_t>(1, contacts / profiles);
  const auto t0 = Clock::now();
  size_t n_events = 0, n_contacts = 0, n_history = 0, n_conversions = 0;
  constexpr size_t kChunk = 5'000;
  for (size_t first = 0; first < profiles; first += kChunk) {
    std::unique_ptr<core::StoreTxn> t = store.begin();
    for (size_t i = first; i < std::min(profiles, first + kChunk); ++i) {
      const int64_t id = static_cast<int64_t>(i + 1);
      core::ProfileRow p;
      p.id = id;
      p.created_ms = p.updated_ms = kStart;
      const std::string email = "p" + std::to_string(i) + "@example.de";
      std::string attrs = "{\"email\":\"" + email + "\"";
      if (chance(0.7)) attrs += ",\"phone\":\"+4930" + std::to_string(1000000 + i) + "\"";
      if (chance(0.8)) attrs += ",\"first_name\":\"Anna\",\"last_name\":\"Muster\"";
      if (chance(0.6)) attrs += ",\"address\":{\"street\":\"Weg 1\",\"zip\":\"10115\",\"city\":\"Berlin\"}";
      if (chance(0.02)) attrs += ",\"email_valid\":false";
      p.attributes = attrs + "}";
      p.state = chance(0.7) ? R"({"c":{},"k":{"email/marketing":["granted",0,1,"crm","k1",null]},"l":{},"v":1})"
                            : R"({"c":{},"k":{},"l":{},"v":1})";
      t->put_profile(p);
      // Contacts over 90 days, then the events (and purchases) after them.
      for (size_t c = 0; c < contacts_per; ++c) {
        core::ContactRow row;
        row.id = "c-" + std::to_string(i) + "-" + std::to_string(c);
        row.profile_id = id;
        const int campaign = static_cast<int>(rng() % kCampaigns);
        row.campaign = "campaign-" + std::to_string(campaign);
        row.channel = kChannels[campaign % 4];
        row.offer = kProducts[campaign % 5];
        row.purpose = "marketing";
        const double r = std::uniform_real_distribution<double>(0, 1)(rng);
        row.decision = r < 0.1 ? "suppress" : r < 0.2 ? "holdout" : "send";
        row.reasons = row.decision == "suppress" ? R"([{"code":"consent_missing"}])" : "[]";
        row.state = row.decision == "suppress" ? "suppressed" : row.decision == "holdout" ? "holdout" : "sent";
        row.created_ms = row.updated_ms = kStart + static_cast<int64_t>(rng() % (90 * kDay));
        t->put_contact(row);
        t->add_contact_event(core::ContactEventRow{row.id, row.created_ms, "requested", "{}"});
        n_history += 1;
        if (row.decision == "send") {
          t->add_contact_event(core::ContactEventRow{row.id, row.created_ms, "sent", "{}"});
          n_history += 1;
          for (const char* what : {"response:delivered", "response:opened", "response:clicked"}) {
            const double p_what = std::string_view(what) == "response:delivered" ? 0.95
                                  : std::string_view(what) == "response:opened"  ? 0.35
                                                                                 : 0.06;
            if (!chance(p_what)) break;
            t->add_contact_event(core::ContactEventRow{row.id, row.created_ms + 3'600'000, what, R"({"detail":{}})"});
            n_history += 1;
          }
        }
        ++n_contacts;
      }
      for (size_t e = 0; e < events_per; ++e) {
        core::EventRow ev;
        ev.profile_id = id;
        ev.at = kStart + static_cast<int64_t>(rng() % (120 * kDay));
        ev.record_seq = static_cast<int64_t>(n_events);
        if (chance(0.02)) {
          ev.event_type = "purchase";
          ev.product = kProducts[rng() % 5];
          ev.revenue = static_cast<double>(rng() % 50000) / 100.0;
          ev.has_revenue = true;
          t->add_event(ev);
          core::customer::credit_conversion(*t, conversions, ev);
          ++n_conversions;
        } else {
          ev.event_type = kEventTypes[rng() % 5];
          t->add_event(ev);
        }
        ++n_events;
      }
    }
    t->commit();
    if ((first / kChunk) % 20 == 0)
      std::fprintf(stderr, "  built %zu profiles (%.0f s)\n", first + kChunk, seconds_since(t0));
  }
  const double secs = seconds_since(t0);
  std::printf(
      "build: %zu profiles, %zu events (%zu conversions), %zu contacts, %zu history rows in %.1f s "
      "(%.0f rows/s), peak RSS %ld MiB\n",
      profiles, n_events, n_conversions, n_contacts, n_history, secs,
      double(profiles + n_events + n_contacts + n_history) / secs, peak_rss_mib());
}

}  // namespace

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1);
  const fs::path dir = a.count("dir") ? fs::path(a.at("dir")) : fs::temp_directory_path() / "tp-bench-reports";
  const size_t profiles = num(a, "profiles", 1'000'000), events = num(a, "events", 20'000'000),
               contacts = num(a, "contacts", 5'000'000), runs = num(a, "runs", 5);
  const fs::path db = dir / "store.db";
  const bool reuse = a.count("reuse") && fs::exists(db);
  if (!reuse) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  core::SqliteStore store(db);
  if (!reuse) build(store, profiles, events, contacts);
  std::printf("store: %s, %.2f GiB\n", db.c_str(), double(fs::file_size(db)) / (1u << 30));

  core::report::ReportService reports(store, core::report::ConversionConfig{});
  auto time_it = [&](const std::string& label, const std::function<core::Json()>& fn) {
    std::vector<double> ms;
    size_t bytes = 0;
    for (size_t i = 0; i < runs; ++i) {
      const auto t = Clock::now();
      bytes = fn().dump().size();
      ms.push_back(seconds_since(t) * 1000);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("report %-28s p50 %8.2f ms  max %8.2f ms  (%zu runs, %zu bytes)\n", label.c_str(), ms[ms.size() / 2],
                ms.back(), runs, bytes);
  };
  core::report::ReportQuery all;
  time_it("campaigns", [&] { return reports.campaigns(all); });
  time_it("channels", [&] { return reports.channels(all); });
  for (core::report::Model m : core::report::kModels) {
    core::report::ReportQuery q;
    q.model = core::report::to_string(m);
    time_it(std::string("attribution ") + q.model, [&] { return reports.attribution(q); });
  }
  time_it("control", [&] { return reports.control(all); });
  std::string error;
  auto month = core::report::parse_report_query("2026-01-01", "2026-01-31", "campaign-7", "", "", &error);
  time_it("campaigns (1 campaign, 1 month)", [&] { return reports.campaigns(*month); });
  const auto t = Clock::now();
  reports.refresh_quality();
  std::printf("quality refresh (scan of every profile): %.2f s\n", seconds_since(t));
  time_it("quality (stored snapshot)", [&] { return reports.quality(); });
  std::printf("peak RSS %ld MiB\n", peak_rss_mib());
  return 0;
}
