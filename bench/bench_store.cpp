// bench_store: the customer model and the rulebook, measured.
//
//   bench_store apply    [--records N] [--people P] [--batch B] [--cache C] [--dir D]
//       N records (profiles of P people from two sources, events, consents)
//       through CustomerStore::apply in transactions of B, with C profiles
//       cached (customer.cache_profiles): records/s, CPU, RSS.
//   bench_store build    --dir D [--profiles N] [--events E]
//       a store of N profiles with E timeline events each (bulk, through the
//       storage interface), reused by decide/simulate/http.
//   bench_store decide   --dir D [--decisions N] [--rulebook FILE]
//       decisions in process (Decider::decide): p50/p99/p99.9 in microseconds.
//   bench_store simulate --dir D [--rulebook FILE]
//       `rules simulate --all` over the whole store: seconds.
//   bench_store requests --dir D [--requests N] [--batch B]
//       contact requests through the contact loop inside CustomerStore::apply
//       (decided, contact + decision + message_sent + outbox message per
//       send), in transactions of B: requests/s, sent/suppressed, RSS.
//   bench_store loop     --dir D [--responses N] [--load R]
//       the real hub: a hard bounce posted for a contact of a `requests`
//       run, then POST /v1/decide until it suppresses: p50/p99 of response
//       to decision, with R profile updates/s of background load.
//   bench_store http     --dir D [--decisions N] [--batch B] [--connections C]
//       the real hub's POST /v1/decide: decisions/s in batches, and single
//       proposals' p50/p99 at C connections.
//
// Every mode prints one line of figures per run; see bench/README.md.

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.hpp"
#include "contact/contact_loop.hpp"
#include "contact/decider.hpp"
#include "customer/customer_store.hpp"
#include "customer_data.hpp"
#include "rules/rulebook.hpp"
#include "store/sqlite_store.hpp"
#include "util/time_text.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace touchpoint;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> parse_args(int argc, char** argv) { return bench::parse_args(argc, argv, 2); }
using bench::cpu_seconds;
using bench::num;
using bench::peak_rss_mib;
using bench::str;

std::string email_of(size_t person) {
  return touchpoint::bench::kFirst[person % 16].ascii + std::string(".") + std::to_string(person) + "@example.de";
}

core::CustomerConfig customer_config() {
  core::CustomerConfig c;
  c.identities["ext:crm"].max_per_profile = 1;
  c.survivorship.push_back(
      {{"first_name", "last_name", "address"}, core::SurvivorshipRule::source_priority, {"crm", "web"}});
  c.survivorship.push_back({{"tags"}, core::SurvivorshipRule::union_, {}});
  return c;
}

const int64_t kNow = 1'764'583'200'000;  // 2025-12-01T10:00:00Z; events are spread over the 60 days before

// ------------------------------------------------------------------- apply

int run_apply(const std::map<std::string, std::string>& a) {
  const size_t n = num(a, "records", 200'000), people = num(a, "people", n / 2), batch = num(a, "batch", 4096);
  const fs::path dir = str(a, "dir", "/tmp/bench_store_apply");
  fs::remove_all(dir);
  fs::create_directories(dir);
  core::SqliteStore store(dir / "touchpoint.db");
  core::CustomerConfig config = customer_config();
  config.cache_profiles = num(a, "cache", config.cache_profiles);
  core::customer::CustomerStore customers(store, config, std::string(64, 'k'));
  touchpoint::bench::Rng rng{42};
  std::vector<core::ApplyBatch> batches;
  size_t made = 0;
  while (made < n) {
    core::ApplyBatch b;
    b.journal_seq = batches.size() + 1;
    for (size_t i = 0; i < batch && made < n; ++i, ++made) {
      const size_t person = rng.below(people);
      core::Record r;
      r.id = "r" + std::to_string(made);
      r.ts_ms = kNow - static_cast<int64_t>(rng.below(60ull * 86400'000));
      const size_t kind = rng.below(10);
      if (kind < 6) {  // profiles: CRM knows the customer number, the web knows e-mail and phone
        r.type = "profile";
        const bool crm = rng.below(2) == 0;
        r.source = crm ? "crm" : "web";
        r.key = crm ? "K-" + std::to_string(person) : "W-" + std::to_string(person);
        const auto& first = touchpoint::bench::kFirst[person % 16];
        const auto& last = touchpoint::bench::kLast[person % 15];
        const auto& city = touchpoint::bench::kCities[person % 8];
        r.data = {{"email", email_of(person)},
                  {"first_name", first.display},
                  {"last_name", last.display},
                  {"phone", "+49170" + touchpoint::bench::digits(person, 7)},
                  {"address", {{"street", "Hauptstraße 1"}, {"zip", "10115"}, {"city", city.name}}},
                  {"credit_score", static_cast<int>(300 + rng.below(600))},
                  {"newsletter", rng.below(2) == 0}};
      } else if (kind < 9) {
        r.type = "event";
        r.source = "web";
        r.data = {{"customer", email_of(person)},
                  {"event_type", kind == 6 ? "purchase" : "web_visit"},
                  {"product", "p" + std::to_string(rng.below(50))},
                  {"category", "c" + std::to_string(rng.below(8))}};
      } else {
        r.type = "consent";
        r.source = "web";
        r.data = {{"customer", email_of(person)},
                  {"channel", "email"},
                  {"purpose", "marketing"},
                  {"status", rng.below(4) == 0 ? "revoked" : "granted"}};
      }
      b.records.push_back({std::move(r), r.source});
    }
    batches.push_back(std::move(b));
  }
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  core::ApplyStats total;
  for (const core::ApplyBatch& b : batches) {
    core::ApplyStats s = customers.apply(b);
    total.applied += s.applied;
    total.profiles_created += s.profiles_created;
    total.merges += s.merges;
    total.identity_conflicts += s.identity_conflicts;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf(
      "apply: %zu records (%zu people, batches of %zu) in %.2f s = %.0f records/s; CPU %.2f s (%.1f us/record); "
      "profiles %zu, merges %zu, conflicts %zu; %zu profiles cached at most; peak RSS %ld MiB\n",
      total.applied, people, batch, secs, double(total.applied) / secs, cpu, cpu * 1e6 / double(total.applied),
      total.profiles_created, total.merges, total.identity_conflicts, config.cache_profiles, peak_rss_mib());
  return 0;
}

// ------------------------------------------------------------------- build

int run_build(const std::map<std::string, std::string>& a) {
  const size_t profiles = num(a, "profiles", 1'000'000), events = num(a, "events", 20);
  const fs::path dir = str(a, "dir", "/tmp/bench_store_1m");
  fs::remove_all(dir);
  fs::create_directories(dir);
  core::SqliteStore store(dir / "touchpoint.db");
  touchpoint::bench::Rng rng{7};
  const core::customer::Survivorship rules(customer_config());
  const auto t0 = Clock::now();
  static const char* kTypes[] = {"web_visit", "web_visit", "web_visit", "message_sent", "purchase", "branch_visit"};
  size_t done = 0;
  while (done < profiles) {
    auto txn = store.begin();
    for (size_t i = 0; i < 20'000 && done < profiles; ++i, ++done) {
      const int64_t id = static_cast<int64_t>(done + 1);
      core::customer::ProfileState state;
      state.apply_attributes({{"email", email_of(done)},
                              {"first_name", touchpoint::bench::kFirst[done % 16].display},
                              {"credit_score", static_cast<int>(300 + rng.below(600))},
                              {"preferred_channel", rng.below(3) == 0 ? "post" : "email"},
                              {"address", {{"street", "Hauptstraße 1"}, {"city", "Berlin"}, {"zip", "10115"}}}},
                             "crm", kNow - 90ll * 86400'000, id, "seed-" + std::to_string(id), rules);
      for (const char* ch : {"email", "post"})
        state.apply_consent(ch, "marketing",
                            core::customer::Consent{rng.below(5) == 0 ? "denied" : "granted", kNow - 80ll * 86400'000,
                                                    id, "crm", "seed-" + std::to_string(id), nullptr});
      core::ProfileRow row;
      row.id = id;
      row.created_ms = row.updated_ms = kNow - 90ll * 86400'000;
      row.attributes = state.attributes().dump();
      row.state = state.serialize();
      txn->put_profile(row);
      txn->add_identity({"email", email_of(done), id, id, "crm", row.created_ms});
      for (size_t e = 0; e < events; ++e) {
        core::EventRow ev;
        ev.profile_id = id;
        ev.at = kNow - static_cast<int64_t>(rng.below(60ull * 86400'000));
        ev.event_type = kTypes[rng.below(6)];
        ev.channel = "email";
        ev.purpose = "marketing";
        ev.product = "p" + std::to_string(rng.below(50));
        ev.category = "c" + std::to_string(rng.below(8));
        ev.record_seq = id * 100 + static_cast<int64_t>(e);
        txn->add_event(ev);
      }
      if (rng.below(50) == 0)
        txn->put_suppression({"blacklist", "email:" + email_of(done), "complaint", {}, 0, row.created_ms, "crm"});
    }
    txn->commit();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("build: %zu profiles with %zu events each in %.1f s (%s, %.0f MiB)\n", profiles, events, secs,
              (dir / "touchpoint.db").c_str(), double(fs::file_size(dir / "touchpoint.db")) / (1 << 20));
  return 0;
}

// ------------------------------------------------------------------ decide

std::string default_rulebook() { return std::string(TOUCHPOINT_SOURCE_DIR) + "/config/rulebook.yaml"; }

size_t count_profiles(core::Store& store) { return store.stats().profiles; }

void print_latency(const char* what, std::vector<double>& us, double secs) {
  std::sort(us.begin(), us.end());
  auto q = [&](double p) { return us[std::min(us.size() - 1, static_cast<size_t>(p * double(us.size())))]; };
  std::printf("%s: %zu decisions in %.2f s = %.0f/s; p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n", what,
              us.size(), secs, double(us.size()) / secs, q(0.5), q(0.99), q(0.999), us.back());
}

int run_decide(const std::map<std::string, std::string>& a) {
  const fs::path dir = str(a, "dir", "/tmp/bench_store_1m");
  const size_t n = num(a, "decisions", 200'000);
  core::SqliteStore store(dir / "touchpoint.db");
  core::customer::CustomerStore customers(store, customer_config(), std::string(64, 'k'));
  auto rb = std::make_shared<const core::rules::Rulebook>(
      core::rules::Rulebook::load(str(a, "rulebook", default_rulebook())));
  core::contact::Decider decider(customers, rb);
  const size_t people = count_profiles(store);
  if (people == 0) {
    std::fprintf(stderr, "no profiles in %s: run bench_store build first\n", dir.c_str());
    return 1;
  }
  touchpoint::bench::Rng rng{99};
  static const char* kChannels[] = {"email", "post", "best", "phone"};
  std::vector<double> us;
  us.reserve(n);
  size_t send = 0;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    core::rules::Proposal p;
    p.customer = email_of(rng.below(people));
    p.channel = kChannels[rng.below(4)];
    p.offer = "p" + std::to_string(rng.below(50));
    p.offer_category = rng.below(4) == 0 ? "credit" : "c1";
    p.at = kNow;
    const auto s = Clock::now();
    core::rules::Decision d = decider.decide(p);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
    send += d.send;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("store: %zu profiles (%s); %zu sent\n", people, dir.c_str(), send);
  print_latency("decide (in process)", us, secs);
  return 0;
}

int run_requests(const std::map<std::string, std::string>& a) {
  const fs::path dir = str(a, "dir", "/tmp/bench_store_1m");
  const size_t n = num(a, "requests", 100'000), batch = num(a, "batch", 1000);
  core::SqliteStore store(dir / "touchpoint.db");
  core::customer::CustomerStore customers(store, customer_config(), std::string(64, 'k'));
  auto rb = std::make_shared<const core::rules::Rulebook>(
      core::rules::Rulebook::load(str(a, "rulebook", default_rulebook())));
  core::contact::Decider decider(customers, rb);
  core::contact::ContactLoop loop(decider, core::ContactConfig{});
  loop.set_channel_sinks({{"email", "mail.smtp"}, {"post", "letters.shop"}});
  customers.set_loop_handler(&loop);
  const size_t people = count_profiles(store);
  if (people == 0) {
    std::fprintf(stderr, "no profiles in %s: run bench_store build first\n", dir.c_str());
    return 1;
  }
  const uint64_t outbox_before = store.stats().outbox;
  touchpoint::bench::Rng rng{2026};
  static const char* kChannels[] = {"email", "post", "best"};
  const std::string run = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::vector<double> batch_ms;
  size_t queued = 0;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (size_t done = 0; done < n;) {
    core::ApplyBatch b;
    for (size_t i = 0; i < batch && done < n; ++i, ++done) {
      core::Record r;
      r.id = run + ":" + std::to_string(done);
      r.type = "contact_request";
      r.source = "bench";
      r.ts_ms = kNow;
      r.data = {{"customer", email_of(rng.below(people))},
                {"channel", kChannels[rng.below(3)]},
                {"campaign", "bench"},
                {"purpose", "marketing"},
                {"offer", "p" + std::to_string(rng.below(50))},
                {"offer_category", "c1"}};
      b.records.push_back({std::move(r), "campaigns"});
    }
    const auto s = Clock::now();
    queued += customers.apply(b).contacts_queued;
    batch_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t outbox = store.stats().outbox - outbox_before;
  std::sort(batch_ms.begin(), batch_ms.end());
  std::printf(
      "requests: %zu in %.2f s = %.0f/s (batches of %zu: p50 %.1f ms, p99 %.1f ms); %zu queued (outbox +%llu), "
      "%zu suppressed; CPU %.1f s, peak RSS %ld MiB; store %zu profiles\n",
      n, secs, double(n) / secs, batch, batch_ms[batch_ms.size() / 2],
      batch_ms[std::min(batch_ms.size() - 1, batch_ms.size() * 99 / 100)], queued,
      static_cast<unsigned long long>(outbox), n - queued, cpu_seconds() - cpu0, peak_rss_mib(), people);
  return queued == outbox ? 0 : 1;
}

int run_simulate(const std::map<std::string, std::string>& a) {
  const fs::path dir = str(a, "dir", "/tmp/bench_store_1m");
  core::SqliteStore store(dir / "touchpoint.db");
  core::customer::CustomerStore customers(store, customer_config(), std::string(64, 'k'));
  auto rb = core::rules::Rulebook::load(str(a, "rulebook", default_rulebook()));
  core::rules::Proposal p;
  p.channel = "best";
  p.offer = "p7";
  p.offer_category = "credit";
  p.at = kNow;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  size_t n = 0, send = 0;
  store.reads().each_profile([&](const core::ProfileRow& row) {
    core::rules::CustomerSnapshot s = customers.snapshot_from(row, p.at - rb.lookback_ms());
    send += rb.decide(&s, p).send;
    ++n;
    return true;
  });
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("simulate: %zu customers in %.1f s (%.0f/s), %zu send; CPU %.1f s; peak RSS %ld MiB\n", n, secs,
              double(n) / secs, send, cpu_seconds() - cpu0, peak_rss_mib());
  return 0;
}

// -------------------------------------------------------------------- http

size_t sink(char* d, size_t s, size_t n, void* out) {
  static_cast<std::string*>(out)->append(d, s * n);
  return s * n;
}

/// The real hub on the bench store `dir`, started with the admin API on a
/// free loopback port and the pipeline files `pipelines` (name -> YAML).
struct RunningHub {
  pid_t pid = 0;
  std::string admin;  ///< host:port
  std::string token;
  ~RunningHub() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
};

bool start_hub(const std::map<std::string, std::string>& a, const fs::path& dir,
               const std::map<std::string, std::string>& pipelines, RunningHub* hub_out) {
  const std::string hub = str(a, "hub", TOUCHPOINT_HUB_BINARY);
  const fs::path work = dir / "hub";
  fs::remove_all(work / "pipelines");
  fs::create_directories(work / "pipelines");
  for (const auto& [name, yaml] : pipelines) std::ofstream(work / "pipelines" / (name + ".yaml")) << yaml;
  {
    std::ofstream cfg(work / "touchpoint.yaml");
    cfg << "data_dir: " << dir.string() << "\nplugin_dir: " << TOUCHPOINT_PLUGIN_DIR
        << "\npipelines_dir: pipelines\nadmin: { listen: \"127.0.0.1:0\" }\n"
        << "customer:\n  rulebook: " << str(a, "rulebook", default_rulebook()) << "\n"
        << "  identities: { \"ext:crm\": { max_per_profile: 1 } }\n";
  }
  fs::remove(dir / "admin.addr");
  const std::string config = (work / "touchpoint.yaml").string();
  const char* args[] = {hub.c_str(), "run", "--config", config.c_str(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string log = (work / "hub.log").string();
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = posix_spawn(&hub_out->pid, hub.c_str(), &fa, nullptr, const_cast<char**>(args), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  for (int i = 0; i < 1200 && hub_out->admin.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // startup of a bench run, not a test
    std::ifstream in(dir / "admin.addr");
    std::getline(in, hub_out->admin);
  }
  std::ifstream(dir / "admin.token") >> hub_out->token;
  if (hub_out->admin.empty()) std::fprintf(stderr, "the hub did not start; see %s\n", log.c_str());
  return !hub_out->admin.empty();
}

/// One POST over a reused libcurl handle: the status (0 when the transfer failed).
long post_json(CURL* c, const std::string& url, const std::string& body, curl_slist* headers, std::string* out) {
  out->clear();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

int run_http(const std::map<std::string, std::string>& a) {
  const fs::path dir = str(a, "dir", "/tmp/bench_store_1m");
  const size_t n = num(a, "decisions", 200'000), batch = num(a, "batch", 100), conns = num(a, "connections", 4);
  size_t people = 0;
  {
    core::SqliteStore probe(dir / "touchpoint.db");
    people = count_profiles(probe);
  }
  RunningHub running;
  if (!start_hub(a, dir, {}, &running)) return 1;
  const std::string& addr = running.admin;
  const std::string& token = running.token;
  const std::string url = "http://" + addr + "/v1/decide", auth = "Authorization: Bearer " + token;
  auto client = [&](size_t per_request, size_t requests, uint64_t seed, std::vector<double>* lat,
                    std::atomic<size_t>* decided) {
    CURL* c = curl_easy_init();
    curl_slist* h = curl_slist_append(nullptr, auth.c_str());
    std::string body, out;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    touchpoint::bench::Rng rng{seed};
    for (size_t r = 0; r < requests; ++r) {
      body = per_request > 1 ? "[" : "";
      for (size_t i = 0; i < per_request; ++i) {
        if (i) body += ",";
        body += R"({"customer":")" + email_of(rng.below(people)) + R"(","channel":"best","offer":"p)" +
                std::to_string(rng.below(50)) + R"(","at":"2025-12-01T10:00:00Z"})";
      }
      if (per_request > 1) body += "]";
      out.clear();
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      const auto s = Clock::now();
      long code = 0;
      if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
      if (lat) lat->push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
      if (code == 200) *decided += per_request;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
  };
  // Batches.
  std::atomic<size_t> decided{0};
  auto t0 = Clock::now();
  std::vector<std::thread> th;
  for (size_t i = 0; i < conns; ++i) th.emplace_back(client, batch, n / batch / conns, 1000 + i, nullptr, &decided);
  for (auto& t : th) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("http batches: %zu decisions in %.2f s = %.0f decisions/s (%zu per request, %zu connections)\n",
              decided.load(), secs, double(decided.load()) / secs, batch, conns);
  // Single proposals.
  th.clear();
  decided = 0;
  std::vector<std::vector<double>> lats(conns);
  t0 = Clock::now();
  for (size_t i = 0; i < conns; ++i) th.emplace_back(client, 1, n / 20 / conns, 2000 + i, &lats[i], &decided);
  for (auto& t : th) t.join();
  secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& l : lats) all.insert(all.end(), l.begin(), l.end());
  print_latency("http single proposals (per request)", all, secs);
  return 0;
}

// -------------------------------------------------------------------- loop

/// Response to decision: the time from a response arriving at the hub (POST
/// to a webhook pipeline, 202 after durable) to the first POST /v1/decide
/// that shows its effect (a hard bounce: suppress with channel_invalid),
/// polled every millisecond, with an optional background load of profile
/// updates through the same pipeline.
int run_loop(const std::map<std::string, std::string>& a) {
  const fs::path dir = str(a, "dir", "/tmp/bench_store_1m");
  const size_t probes = num(a, "responses", 200), load = num(a, "load", 0);
  // Email contacts (from a `requests` run) of distinct customers, with their address.
  std::vector<std::pair<std::string, std::string>> targets;  // contact id, e-mail
  {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir / "touchpoint.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return 1;
    sqlite3_stmt* st = nullptr;
    const char* sql =
        "SELECT MIN(c.id), i.value FROM contacts c JOIN identities i ON i.profile_id = c.profile_id AND i.kind = "
        "'email' WHERE c.channel = 'email' AND c.decision = 'send' GROUP BY c.profile_id ORDER BY random() LIMIT ?";
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(probes * 2));
    while (sqlite3_step(st) == SQLITE_ROW)
      targets.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                           reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  if (targets.empty()) {
    std::fprintf(stderr, "no e-mail contacts in %s: run bench_store requests first\n", dir.c_str());
    return 1;
  }
  size_t people = 0;
  {
    core::SqliteStore probe(dir / "touchpoint.db");
    people = count_profiles(probe);
  }
  const fs::path port_file = dir / "hub" / "responses.port";
  fs::remove(port_file);
  RunningHub hub;
  if (!start_hub(a, dir,
                 {{"responses",
                   "name: responses\nsource:\n  plugin: webhook\n  config:\n    listen: 127.0.0.1:0\n"
                   "    path: /v1/records\n    type: response\n    port_file: " +
                       port_file.string() + "\nstore: true\n"}},
                 &hub))
    return 1;
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream(port_file) >> port;
  }
  const std::string ingest = "http://127.0.0.1:" + port + "/v1/records", decide = "http://" + hub.admin + "/v1/decide";
  curl_slist* json_headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_slist* admin_headers = curl_slist_append(nullptr, ("Authorization: Bearer " + hub.token).c_str());

  // Background load: batches of 100 profile updates at `load` records/s, open loop.
  std::atomic<bool> stop{false};
  std::atomic<size_t> loaded{0};
  std::thread loader([&] {
    if (load == 0) return;
    CURL* c = curl_easy_init();
    touchpoint::bench::Rng rng{99};
    std::string out;
    const auto period = std::chrono::microseconds(100'000'000 / load);
    for (auto next = Clock::now(); !stop; next += period) {
      std::this_thread::sleep_until(next);
      std::string body = "[";
      for (int i = 0; i < 100; ++i) {
        if (i) body += ",";
        body += R"({"type":"profile","data":{"email":")" + email_of(rng.below(people)) + R"(","segment":"s)" +
                std::to_string(rng.below(20)) + "\"}}";
      }
      body += "]";
      if (post_json(c, ingest, body, json_headers, &out) == 202) loaded += 100;
    }
    curl_easy_cleanup(c);
  });

  CURL* c = curl_easy_init();
  std::string out;
  std::vector<double> ms;
  size_t skipped = 0, timeouts = 0;
  const double cpu0 = cpu_seconds();
  const auto t_all = Clock::now();
  for (size_t i = 0; i < targets.size() && ms.size() < probes; ++i) {
    const auto& [contact, email] = targets[i];
    const std::string proposal = R"({"customer":")" + email + R"(","channel":"email","purpose":"service"})";
    // Only customers the rulebook would still write to tell when the bounce is seen.
    if (post_json(c, decide, proposal, admin_headers, &out) != 200 || out.find("\"send\"") == std::string::npos) {
      ++skipped;
      continue;
    }
    const std::string response = R"([{"id":"bench-bounce-)" + contact + R"(","data":{"contact_id":")" + contact +
                                 R"(","channel":"email","kind":"bounce_hard","detail":{"status":"5.1.1"}}}])";
    const auto t0 = Clock::now();
    if (post_json(c, ingest, response, json_headers, &out) != 202) {
      std::fprintf(stderr, "response refused: %s\n", out.c_str());
      break;
    }
    bool seen = false;
    while (!seen && Clock::now() - t0 < std::chrono::seconds(10)) {
      seen = post_json(c, decide, proposal, admin_headers, &out) == 200 &&
             out.find("channel_invalid") != std::string::npos;
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!seen && ++timeouts == 3) break;  // the store is saturated: the backlog only grows
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t_all).count();
  stop = true;
  loader.join();
  curl_easy_cleanup(c);
  curl_slist_free_all(json_headers);
  curl_slist_free_all(admin_headers);
  if (ms.empty()) {
    std::fprintf(stderr, "no probe ran (%zu customers skipped)\n", skipped);
    return 1;
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(double(ms.size()) * p))]; };
  std::printf(
      "response -> decision: %zu responses, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %zu not seen within 10 s; "
      "background load %zu profile records in %.1f s (%.0f/s); store %zu profiles; bench CPU %.1f s\n",
      ms.size(), pct(0.5), pct(0.99), ms.back(), timeouts, loaded.load(), secs, double(loaded.load()) / secs, people,
      cpu_seconds() - cpu0);
  return timeouts == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_store apply|build|decide|simulate|http|requests|loop [--options]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto a = parse_args(argc, argv);
  if (mode == "apply") return run_apply(a);
  if (mode == "build") return run_build(a);
  if (mode == "decide") return run_decide(a);
  if (mode == "simulate") return run_simulate(a);
  if (mode == "http") return run_http(a);
  if (mode == "requests") return run_requests(a);
  if (mode == "loop") return run_loop(a);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
