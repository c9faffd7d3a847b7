#pragma once
// The CLI talking to a running hub through its admin API (libcurl): for
// actions only the hub can do completely, such as erasing a person in the
// connectors it runs.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/hub_config.hpp"

namespace touchpoint::cli {

class AdminClient {
 public:
  struct Response {
    long status = 0;
    std::string body;
  };
  /// A client for the hub running on hub.data_dir, or nullopt when none runs
  /// (its data directory lock is free).
  static std::optional<AdminClient> for_running_hub(const core::HubConfig& hub);

  Response post(const std::string& path, const std::string& json_body) const;
  /// GET `path`, handing the body to `chunk` as it arrives (a streamed
  /// answer), with the response's status. Returns the status.
  using ChunkFn = std::function<void(long status, std::string_view chunk)>;
  long stream(const std::string& path, const ChunkFn& chunk) const;

 private:
  AdminClient(std::string base, std::string token) : base_(std::move(base)), token_(std::move(token)) {}
  std::string base_;
  std::string token_;
};

}  // namespace touchpoint::cli
