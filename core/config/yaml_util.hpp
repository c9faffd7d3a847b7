#pragma once
// Helpers for reading YAML config strictly: unknown keys are errors, every
// error carries file:line:col, scalars are typed by the YAML 1.2 core schema.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "config/config_error.hpp"
#include "record/record.hpp"

namespace touchpoint::core {

/// Loads a YAML file; syntax errors and unreadable files become ConfigError.
/// Also refused, with the position where known: files over 16 MiB, bytes
/// that are not UTF-8 or are control characters, nesting deeper than 1000
/// levels (including recursive aliases) and aliases that expand to more than
/// a million values or 64 MiB of text.
YAML::Node load_yaml_file(const std::filesystem::path& file);

/// Fails at the first key of `map` that is not in `allowed`, or that repeats.
void require_keys_known(const YAML::Node& map, std::initializer_list<const char*> allowed, const ConfigSource& src,
                        const std::string& what);
void require_map(const YAML::Node& node, const ConfigSource& src, const std::string& what);

std::string get_string(const YAML::Node& node, const ConfigSource& src, const std::string& what);
int64_t get_int(const YAML::Node& node, const ConfigSource& src, const std::string& what, int64_t min, int64_t max);
bool get_bool(const YAML::Node& node, const ConfigSource& src, const std::string& what);
/// Parses sizes like 10485760, "64MiB", "1GiB", "512KiB".
uint64_t get_size(const YAML::Node& node, const ConfigSource& src, const std::string& what);

/// Converts a YAML tree to JSON; plain scalars that look like null/bool/
/// number become those, quoted scalars stay strings. `${env:NAME}` and
/// `${file:/path}` inside strings are replaced by the secret's value
/// (file paths relative to base_dir; a trailing newline is dropped), and
/// `${data_dir}` by the hub's data directory.
Json yaml_to_json(const YAML::Node& node, const ConfigSource& src, const std::filesystem::path& base_dir,
                  const std::filesystem::path& data_dir = {});

/// Typed value of one scalar (see yaml_to_json), without secret expansion.
Json typed_scalar(const YAML::Node& scalar);

}  // namespace touchpoint::core
