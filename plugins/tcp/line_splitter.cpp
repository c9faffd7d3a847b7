#include "line_splitter.hpp"

#include <cstring>

namespace touchpoint::tcp {

void LineSplitter::feed(std::string_view data, std::string& lines, const Overlong& overlong) {
  size_t pos = 0;
  while (pos < data.size()) {
    const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
    const std::string_view piece = data.substr(pos, end - pos);
    pos = end + 1;
    if (discarding_) {
      skipped_ += piece.size();
    } else if (partial_.size() + piece.size() > max_) {
      discarding_ = true;
      head_ = partial_.substr(0, kOverlongHead);
      if (head_.size() < kOverlongHead) head_.append(piece.substr(0, kOverlongHead - head_.size()));
      skipped_ = partial_.size() + piece.size();
      partial_.clear();
      partial_.shrink_to_fit();  // a near-limit line is not kept per connection
    } else if (nl == nullptr) {
      partial_.append(piece);
      continue;
    } else {
      lines.append(partial_).append(piece).push_back('\n');
      partial_.clear();
      ++lines_;
      continue;
    }
    if (nl != nullptr) end_overlong(lines, overlong);
  }
}

void LineSplitter::finish(std::string& lines, const Overlong& overlong) {
  if (discarding_) {
    end_overlong(lines, overlong);
  } else if (!partial_.empty()) {
    lines.append(partial_).push_back('\n');
    partial_.clear();
    ++lines_;
  }
}

void LineSplitter::end_overlong(std::string& lines, const Overlong& overlong) {
  ++lines_;
  overlong(lines_, head_, skipped_);
  lines.push_back('\n');
  discarding_ = false;
  head_.clear();
  skipped_ = 0;
}

}  // namespace touchpoint::tcp
