// touchpoint tap: live records at one point of a running pipeline, from the
// hub's admin API (GET /v1/tap), printed as NDJSON.
#include <curl/curl.h>

#include <algorithm>
#include <iostream>

#include "cli/admin_client.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"

namespace touchpoint::cli {
namespace {

std::string escaped(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  if (e == nullptr) throw std::bad_alloc();
  std::string out(e);
  curl_free(e);
  return out;
}

}  // namespace

int cmd_tap(const Argv& argv) {
  Args args(argv, {"config", "step", "limit", "seconds"}, {"help", "allow-pii"});
  if (args.flag("help") || args.positionals().size() != 1) {
    std::cout
        << "usage: touchpoint tap <pipeline> [--step N] [--limit N] [--seconds S] [--allow-pii] [--config FILE]\n\n"
           "Prints the records passing one point of a running pipeline, one JSON object per line:\n"
           "--step 0 as the source gave them, --step N after the pipeline's N-th step (default: after\n"
           "the last one). Stops after --limit records (default 100) or --seconds (default 60).\n"
           "E-mail addresses, phone numbers and IBANs are masked unless --allow-pii (audited).\n"
           "The first line describes the tap; the last says why it ended and how many records were\n"
           "dropped because this reader fell behind (the pipeline never waits for it).\n"
           "Exit: 0 ended, 1 no hub running or it refused, 2 usage.\n";
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  std::optional<AdminClient> client = AdminClient::for_running_hub(hub);
  if (!client) {
    std::cerr << "touchpoint tap: no hub is running on " << hub.data_dir.string() << "\n";
    return kExitFailure;
  }
  std::string path = "/v1/tap?pipeline=" + escaped(args.positionals()[0]);
  for (const char* p : {"step", "limit", "seconds"})
    if (auto v = args.get(p)) path += std::string("&") + p + "=" + escaped(*v);
  if (args.flag("allow-pii")) path += "&pii=allow";

  std::string pending;  // a line split across chunks
  std::string refusal;
  const long status = client->stream(path, [&](long code, std::string_view chunk) {
    if (code / 100 != 2) {
      refusal.append(chunk.substr(0, 64 * 1024 - std::min<size_t>(refusal.size(), 64 * 1024)));
      return;
    }
    pending.append(chunk);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
      if (nl > start) std::cout << std::string_view(pending).substr(start, nl - start + 1);  // heartbeats stay out
    std::cout.flush();
    pending.erase(0, start);
  });
  if (status / 100 != 2) {
    std::cerr << "touchpoint tap: the hub answered " << status << ": " << refusal << "\n";
    return kExitFailure;
  }
  if (!pending.empty()) std::cout << pending << "\n";
  return kExitOk;
}

}  // namespace touchpoint::cli
