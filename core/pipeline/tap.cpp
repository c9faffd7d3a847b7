#include "pipeline/tap.hpp"

#include "util/log.hpp"

namespace touchpoint::core {
namespace {

// Strings through the log's masking; integers long enough to be a phone
// number become masked text too, so a number field cannot leak one.
void mask(Json& v) {
  if (v.is_string()) {
    v = log::mask_pii(v.get_ref<const std::string&>());
  } else if (v.is_number_integer() || v.is_number_unsigned()) {
    const std::string digits = v.dump();
    if (digits.size() >= 7) v = log::mask_pii(digits);
  } else if (v.is_object() || v.is_array()) {
    for (Json& child : v) mask(child);
  }
}

}  // namespace

void Tap::offer(std::string line) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (lines_.size() >= options_.max_buffered || bytes_ + line.size() > options_.max_buffered_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    bytes_ += line.size();
    lines_.push_back(std::move(line));
  }
  cv_.notify_one();
}

std::vector<std::string> Tap::take(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, wait, [&] { return !lines_.empty(); });
  std::vector<std::string> out(std::make_move_iterator(lines_.begin()), std::make_move_iterator(lines_.end()));
  lines_.clear();
  bytes_ = 0;
  return out;
}

TapHub& TapHub::process() {
  static TapHub hub;
  return hub;
}

std::shared_ptr<Tap> TapHub::open(Tap::Options options) {
  std::lock_guard<std::mutex> lk(mu_);
  if (taps_.size() >= kMaxTaps) return nullptr;
  auto tap = std::make_shared<Tap>(std::move(options));
  taps_.push_back(tap);
  open_.store(taps_.size());
  return tap;
}

void TapHub::close(const std::shared_ptr<Tap>& tap) {
  std::lock_guard<std::mutex> lk(mu_);
  std::erase(taps_, tap);
  open_.store(taps_.size());
}

std::vector<std::shared_ptr<const Tap>> TapHub::list() {
  std::lock_guard<std::mutex> lk(mu_);
  return {taps_.begin(), taps_.end()};
}

void TapHub::observe(const std::string& pipeline, size_t point, const Record& record) {
  std::vector<std::shared_ptr<Tap>> matching;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& t : taps_)
      if (t->options().point == point && t->options().pipeline == pipeline) matching.push_back(t);
  }
  // Rendered once per masking mode, outside the lock.
  std::string masked, clear;
  for (const auto& t : matching) {
    std::string& text = t->options().allow_pii ? clear : masked;
    if (text.empty()) text = line(pipeline, point, record, t->options().allow_pii);
    t->offer(text);
  }
}

std::string TapHub::line(const std::string& pipeline, size_t point, const Record& record, bool allow_pii) {
  Json rec = to_json(record);
  if (!allow_pii) {
    mask(rec["data"]);
    mask(rec["meta"]);
    if (rec.contains("key")) mask(rec["key"]);
    if (rec.contains("id")) mask(rec["id"]);
  }
  Json out = {{"pipeline", pipeline}, {"point", point}, {"record", std::move(rec)}};
  std::string text = out.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxLineBytes) {
    Json small = {{"pipeline", pipeline},
                  {"point", point},
                  {"record", {{"id", allow_pii ? record.id : log::mask_pii(record.id)}, {"type", record.type}}},
                  {"too_large", text.size()}};
    text = small.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return text;
}

}  // namespace touchpoint::core
