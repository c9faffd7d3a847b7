#include "csv_reader.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace touchpoint::csv {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// How much of an over-long line is kept as the malformed row's `raw`.
constexpr size_t kMaxSkippedRawPrefix = size_t{64} << 10;

bool is_break(char c) { return c == '\r' || c == '\n'; }

}  // namespace

RowReader::RowReader(ReaderOptions options, uint64_t offset, uint64_t line, uint64_t horizon, bool strict)
    : options_(options),
      base_(offset),
      line_(line),
      bom_checked_(offset != 0),
      horizon_(horizon > offset ? horizon : 0),
      strict_(horizon > offset && strict) {}

void RowReader::note_failure(uint64_t start, uint64_t scanned) {
  if (horizon_ > start) {
    // The second failure inside the span of an earlier one: no more rescans up to there.
    strict_ = true;
    horizon_ = std::max(horizon_, scanned);
  } else {
    horizon_ = scanned;
    strict_ = false;
  }
}

void RowReader::compact() {
  // Drop consumed bytes once they dominate the buffer (keeps memory bounded and erase cheap).
  if (pos_ == 0) return;
  if (pos_ == buf_.size() || (pos_ >= (size_t{64} << 10) && pos_ * 2 >= buf_.size())) {
    buf_.erase(0, pos_);
    base_ += pos_;
    pos_ = 0;
  }
}

void RowReader::feed(std::string_view bytes) {
  compact();
  buf_.append(bytes);
}

RowReader::Status RowReader::skip_blank_lines() {
  if (!bom_checked_) {
    std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
    if (avail.size() < kBom.size() && !finished_ && kBom.substr(0, avail.size()) == avail) return Status::need_more;
    if (avail.substr(0, kBom.size()) == kBom) pos_ += kBom.size();
    bom_checked_ = true;
  }
  while (pos_ < buf_.size()) {
    char c = buf_[pos_];
    if (c == '\n') {
      ++pos_;
    } else if (c == '\r') {
      if (pos_ + 1 < buf_.size()) {
        pos_ += buf_[pos_ + 1] == '\n' ? 2 : 1;
      } else if (finished_) {
        ++pos_;
      } else {
        return Status::need_more;  // a CR at the end may be the first half of CRLF
      }
    } else {
      return Status::row;
    }
    ++line_;
  }
  return finished_ ? Status::end : Status::need_more;
}

RowReader::Status RowReader::peek() {
  if (skipping_) return Status::row;
  return skip_blank_lines();
}

RowReader::Status RowReader::next(Row& row) {
  if (skipping_) return continue_skip(row);
  Status s = skip_blank_lines();
  if (s != Status::row) return s;
  switch (parse_row(row)) {
    case Parse::complete:
      return Status::row;
    case Parse::need_more:
      return Status::need_more;
    case Parse::oversize:
      return continue_skip(row);
  }
  return Status::need_more;
}

RowReader::Status RowReader::continue_skip(Row& row) {
  const char* b = buf_.data();
  const size_t n = buf_.size();
  size_t k = pos_;
  while (k < n && !is_break(b[k])) ++k;
  size_t end = n;
  if (k >= n) {
    if (!finished_) {
      pos_ = n;
      compact();
      return Status::need_more;
    }
  } else {
    size_t len = 1;
    if (b[k] == '\r') {
      if (k + 1 >= n && !finished_) {
        pos_ = k;
        return Status::need_more;
      }
      if (k + 1 < n && b[k + 1] == '\n') len = 2;
    }
    end = k + len;
  }
  row = std::move(skip_row_);
  skip_row_ = Row{};
  // Cut only when the kept prefix is short of the line (as for a complete over-long line).
  row.raw_cut = row.raw.size() < base_ + k - row.offset;
  row.end_offset = base_ + end;
  row.next_line = row.line + 1;
  pos_ = end;
  line_ = row.next_line;
  skipping_ = false;
  return Status::row;
}

RowReader::Parse RowReader::parse_row(Row& row) {
  const char* b = buf_.data();
  const size_t start = pos_;
  const char d = options_.delimiter;
  const bool trim = options_.trim;
  const size_t max = options_.max_row_bytes;
  // Look at no more than max + 2 bytes (a row of the limit, plus one byte to see it is longer,
  // plus one to tell CRLF from CR): a row that does not end there is over the limit, so a
  // failed row costs O(max_row_bytes), however much input is buffered.
  const size_t avail = buf_.size() - start;
  const size_t n = max < SIZE_MAX - 2 && avail > max + 2 ? start + max + 2 : buf_.size();
  const bool finished = finished_ && n == buf_.size();
  auto blank = [d](char c) { return (c == ' ' || c == '\t') && c != d; };

  const uint64_t row_start = base_ + start;
  if (horizon_ != 0 && horizon_ <= row_start) {  // past the span of the last failed row
    horizon_ = 0;
    strict_ = false;
  }
  const bool line_local = strict_;  // quoted fields may not span lines

  constexpr size_t npos = std::string::npos;
  uint64_t breaks = 0;        // line breaks inside quoted fields
  size_t first_break = npos;  // where the row's first physical line ends
  size_t first_break_end = npos;
  size_t nf = 0;
  std::string error;

  auto oversize_reason = [&] {
    return "row exceeds max_row_bytes (" + std::to_string(max) + " bytes); unterminated quote or missing line break?";
  };
  // Rejects the row's first physical line (the rest of the input when it has no line break)
  // and resumes after it. A non-zero `horizon` (absolute) records a failed row for the
  // recovery state. It depends on the input only, never on how it was chunked.
  auto reject_first_line = [&](std::string reason, uint64_t horizon) -> Parse {
    const size_t content_end = first_break != npos ? first_break : n;
    const size_t next = first_break != npos ? first_break_end : n;
    row.fields.clear();
    row.raw.assign(b + start, content_end - start);
    row.raw_cut = false;
    row.offset = row_start;
    row.end_offset = base_ + next;
    row.line = line_;
    row.next_line = line_ + 1;
    row.error = std::move(reason);
    if (horizon != 0) note_failure(row_start, horizon);
    pos_ = next;
    line_ = row.next_line;
    return Parse::complete;
  };
  // A multi-line row longer than max_row_bytes. When its first line alone is longer, the
  // outcome equals the single-line case (skipping to the line break): no failure is noted.
  auto reject_oversize = [&]() -> Parse {
    const uint64_t horizon = first_break_end - start <= max ? row_start + max + 1 : 0;
    return reject_first_line(oversize_reason(), horizon);
  };

  // Input ran out before the row was complete.
  auto incomplete = [&]() -> Parse {
    if (n - start <= max) return Parse::need_more;
    if (first_break != npos) return reject_oversize();
    // One physical line longer than the limit: drop bytes until its line break.
    // A CR as the window's last byte may be this line's break (CR or CRLF):
    // the skip must see it, or it would swallow the next line.
    const size_t cut = b[n - 1] == '\r' ? n - 1 : n;
    skip_row_ = Row{};
    skip_row_.raw.assign(b + start, std::min(cut - start, kMaxSkippedRawPrefix));
    skip_row_.raw_cut = true;
    skip_row_.offset = row_start;
    skip_row_.line = line_;
    skip_row_.error = oversize_reason();
    skipping_ = true;
    pos_ = cut;
    return Parse::oversize;
  };

  auto next_field = [&]() -> std::string& {
    if (nf == row.fields.size()) row.fields.emplace_back();
    std::string& f = row.fields[nf++];
    f.clear();
    return f;
  };

  size_t i = start;
  size_t content_end = n;  // end of the row's bytes (before the line break)
  size_t row_end = n;      // after the line break
  // Ends the row at the line break at index t; false when more input is needed to tell CR from CRLF.
  auto terminate_at = [&](size_t t) -> bool {
    size_t len = 1;
    if (b[t] == '\r') {
      if (t + 1 >= n && !finished) return false;
      if (t + 1 < n && b[t + 1] == '\n') len = 2;
    }
    content_end = t;
    row_end = t + len;
    return true;
  };

  for (;;) {
    std::string& f = next_field();
    size_t j = i;
    if (trim) {
      while (j < n && blank(b[j])) ++j;
    }
    if (j < n && b[j] == '"') {
      // Quoted field.
      i = j + 1;
      bool closed = false;
      while (!closed) {
        size_t k = i;
        while (k < n && b[k] != '"' && !is_break(b[k])) ++k;
        f.append(b + i, k - i);
        i = k;
        if (i >= n) {
          if (!finished || n - start > max) return incomplete();
          // Quote still open at end of input: only the first physical line is malformed.
          return reject_first_line("unterminated quoted field", base_ + n);
        }
        if (b[i] == '"') {
          if (i + 1 >= n && !finished) return incomplete();
          if (i + 1 < n && b[i + 1] == '"') {
            f.push_back('"');
            i += 2;
          } else {
            ++i;
            closed = true;
          }
        } else {  // line break inside the quotes
          size_t len = 1;
          if (b[i] == '\r') {
            if (i + 1 >= n && !finished) return incomplete();
            if (i + 1 < n && b[i + 1] == '\n') len = 2;
          }
          if (first_break == npos) {
            first_break = i;
            first_break_end = i + len;
          }
          // A first line over the limit is rejected as over-long, as without line-local
          // quotes: no fix of the quote could make it fit, and a reader that cannot tell
          // CR from CRLF yet (chunked input) already rejected it so.
          if (first_break_end - start > max) return reject_oversize();
          if (line_local)
            return reject_first_line(
                "unterminated quoted field (after earlier malformed rows, a quoted field may "
                "not span lines until byte " +
                    std::to_string(horizon_) + ")",
                0);
          ++breaks;
          f.append(b + i, len);
          i += len;
        }
      }
      if (trim) {
        while (i < n && blank(b[i])) ++i;
      }
      if (i >= n) {
        if (!finished) return incomplete();
        break;  // row ends at end of input
      }
      if (b[i] == d) {
        ++i;
        continue;
      }
      if (is_break(b[i])) {
        if (!terminate_at(i)) return incomplete();
        break;
      }
      // Text after the closing quote: malformed; the row ends at the next line break.
      error = "unexpected character after closing quote in field " + std::to_string(nf);
      size_t k = i;
      while (k < n && !is_break(b[k])) ++k;
      if (k >= n) {
        if (!finished) return incomplete();
        break;
      }
      if (!terminate_at(k)) return incomplete();
      break;
    }
    // Unquoted field: a '"' inside it is kept literally.
    size_t k = i;
    while (k < n && b[k] != d && !is_break(b[k])) ++k;
    if (k >= n && !finished) return incomplete();
    size_t s = i;
    size_t e = k;
    if (trim) {
      while (s < e && blank(b[s])) ++s;
      while (e > s && blank(b[e - 1])) --e;
    }
    f.assign(b + s, e - s);
    if (k >= n) break;  // row ends at end of input
    if (b[k] == d) {
      i = k + 1;
      continue;
    }
    if (!terminate_at(k)) return incomplete();
    break;
  }

  // A complete row over the limit is malformed exactly like one still incomplete at the limit,
  // so the outcome does not depend on how the input was chunked (or where a resume started).
  if (row_end - start > max) {
    if (first_break != npos) return reject_oversize();
    row.fields.clear();
    row.raw.assign(b + start, std::min(content_end - start, kMaxSkippedRawPrefix));
    row.raw_cut = content_end - start > kMaxSkippedRawPrefix;
    row.offset = row_start;
    row.end_offset = base_ + row_end;
    row.line = line_;
    row.next_line = line_ + 1;
    row.error = oversize_reason();
    pos_ = row_end;
    line_ = row.next_line;
    return Parse::complete;
  }

  row.fields.resize(nf);
  if (!error.empty()) row.fields.clear();
  row.raw.assign(b + start, content_end - start);
  row.raw_cut = false;
  row.offset = row_start;
  row.end_offset = base_ + row_end;
  row.line = line_;
  row.next_line = line_ + breaks + 1;
  row.error = std::move(error);
  pos_ = row_end;
  line_ = row.next_line;
  return Parse::complete;
}

char detect_delimiter(std::string_view head) {
  size_t i = 0;
  if (head.substr(0, kBom.size()) == kBom) i = kBom.size();
  while (i < head.size() && is_break(head[i])) ++i;
  std::array<size_t, 3> counts{};  // ',', ';', '\t'
  bool quoted = false;
  for (; i < head.size(); ++i) {
    char c = head[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted) {
      if (is_break(c)) break;
      if (c == ',') ++counts[0];
      if (c == ';') ++counts[1];
      if (c == '\t') ++counts[2];
    }
  }
  char best = ',';
  size_t best_count = counts[0];
  if (counts[1] > best_count) {
    best = ';';
    best_count = counts[1];
  }
  if (counts[2] > best_count) best = '\t';
  return best;
}

}  // namespace touchpoint::csv
