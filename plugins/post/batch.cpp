#include "batch.hpp"

#include "json_text.hpp"
#include "sha256.hpp"

namespace touchpoint::post {

BatchBuilder::BatchBuilder(const ExportConfig& config) : config_(config) {
  if (config_.encoding == Encoding::latin1) to_latin1_ = std::make_unique<Transcoder>("ISO-8859-1", "UTF-8");
}

std::string_view BatchBuilder::extension() const { return config_.format == Format::csv ? "csv" : "jsonl"; }

bool BatchBuilder::encode(std::string_view value, std::string& out, std::string& error) {
  out.clear();
  if (!to_latin1_) {
    out.append(value);
    return true;
  }
  return to_latin1_->convert(value, out, error);
}

void BatchBuilder::append_csv_field(std::string_view v) {
  // RFC 4180: quote a field holding the delimiter, a quote or a line break; double its quotes.
  bool quote = false;
  for (char c : v)
    if (c == config_.delimiter || c == '"' || c == '\r' || c == '\n') {
      quote = true;
      break;
    }
  if (!quote) {
    row_.append(v);
    return;
  }
  row_.push_back('"');
  for (char c : v) {
    if (c == '"') row_.push_back('"');
    row_.push_back(c);
  }
  row_.push_back('"');
}

void BatchBuilder::begin(std::string name) {
  file_ = BatchFile{};
  file_.name = std::move(name);
  file_.manifest_name = file_.name + ".manifest.json";
  if (config_.format != Format::csv || !config_.header) return;
  row_.clear();
  std::string error;
  for (size_t i = 0; i < config_.columns.size(); ++i) {
    if (i > 0) row_.push_back(config_.delimiter);
    // Column names were validated as UTF-8 by the JSON parser; one that latin-1 cannot hold
    // is written as UTF-8 rather than failing every batch.
    if (!encode(config_.columns[i].name, field_, error)) field_ = config_.columns[i].name;
    append_csv_field(field_);
  }
  row_ += config_.line_ending;
  file_.content += row_;
}

uint64_t BatchBuilder::add(std::string_view id, std::string_view key, std::string_view data, std::string_view meta,
                           std::string& error) {
  if (!letter_.parse(id, key, data, meta, error)) return 0;
  const uint64_t row = file_.rows + 1;
  row_.clear();
  if (config_.format == Format::jsonl) row_.push_back('{');
  for (size_t i = 0; i < config_.columns.size(); ++i) {
    const Column& col = config_.columns[i];
    const std::string value = letter_.value(col.field, row);
    for (unsigned char c : value)
      if (c < 0x20 && c != '\n') {
        error = "field " + col.field + " contains control characters";
        return 0;
      }
    if (config_.format == Format::jsonl) {
      if (i > 0) row_.push_back(',');
      append_json_string(row_, col.name);
      row_.push_back(':');
      append_json_string(row_, value);
      continue;
    }
    std::string why;
    if (!encode(value, field_, why)) {
      error = "field " + col.field + ": " + why;
      return 0;
    }
    if (i > 0) row_.push_back(config_.delimiter);
    append_csv_field(field_);
  }
  if (config_.format == Format::jsonl) {
    row_ += "}\n";
  } else {
    row_ += config_.line_ending;
  }
  file_.content += row_;
  file_.rows = row;
  return row;
}

BatchFile BatchBuilder::finish(const std::string& created) {
  file_.sha256 = sha256_hex(file_.content);
  std::string& m = file_.manifest;
  m = "{\"file\":";
  append_json_string(m, file_.name);
  m += ",\"format\":\"" + std::string(extension()) + "\",\"encoding\":\"";
  m += config_.encoding == Encoding::latin1 ? "latin-1" : "utf-8";
  m += "\",\"header\":";
  m += config_.format == Format::csv && config_.header ? "true" : "false";
  m += ",\"rows\":" + std::to_string(file_.rows) + ",\"bytes\":" + std::to_string(file_.content.size()) +
       ",\"sha256\":\"" + file_.sha256 + "\",\"created\":";
  append_json_string(m, created);
  m += ",\"columns\":[";
  for (size_t i = 0; i < config_.columns.size(); ++i) {
    if (i > 0) m.push_back(',');
    append_json_string(m, config_.columns[i].name);
  }
  m += "]}\n";
  return std::move(file_);
}

}  // namespace touchpoint::post
