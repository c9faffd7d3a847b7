#pragma once
// Factories of the built-in transform kinds, one per source file, wired up in
// registry.cpp. Each reads its options and throws ConfigError on mistakes.
//
// `options` is the value of the single-key step map; `anchor` is its key node
// (errors point there when `options` is null, e.g. `- hash:` alone).

#include <memory>

#include "transform/transform.hpp"

namespace touchpoint::core::transform {

using Factory = std::unique_ptr<Transform> (*)(const YAML::Node& options, const YAML::Node& anchor,
                                               const ConfigSource& source);

std::unique_ptr<Transform> make_rename(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_set(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_default(const YAML::Node& options, const YAML::Node& anchor,
                                        const ConfigSource& source);
std::unique_ptr<Transform> make_remove(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_keep(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_normalize_email(const YAML::Node& options, const YAML::Node& anchor,
                                                const ConfigSource& source);
std::unique_ptr<Transform> make_normalize_phone(const YAML::Node& options, const YAML::Node& anchor,
                                                const ConfigSource& source);
std::unique_ptr<Transform> make_require(const YAML::Node& options, const YAML::Node& anchor,
                                        const ConfigSource& source);
std::unique_ptr<Transform> make_filter(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_hash(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_lua(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);
std::unique_ptr<Transform> make_mask(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source);

}  // namespace touchpoint::core::transform
