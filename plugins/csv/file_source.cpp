#include "file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "json_util.hpp"

namespace touchpoint::csv {
namespace {

constexpr size_t kChunk = size_t{256} << 10;

}  // namespace

size_t unit_cost(const Record& r) {
  return r.id.size() + r.type.size() + r.key.size() + r.data.size() + r.meta.size() + TP_UNIT_RECORD_OVERHEAD;
}

size_t unit_cost(const Reject& r) {
  return r.raw.size() + r.reason.size() + r.location.size() + TP_UNIT_RECORD_OVERHEAD;
}

std::string display_name(std::string_view name) {
  return valid_utf8(name) ? std::string(name) : escape_invalid_utf8(name);
}

FileSource::FileSource(const Config& config, Decoder& decoder, const FileInfo& file, ReadPosition from)
    : config_(config), decoder_(decoder), file_(file) {
  const uint64_t offset = from.offset;
  const uint64_t line = from.line;
  fd_ = ::open(file_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + file_.path.string());
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    ::close(fd_);
    throw std::system_error(err, std::generic_category(), "cannot stat " + file_.path.string());
  }
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + static_cast<int64_t>(st.st_mtim.tv_nsec);
  if (static_cast<uint64_t>(st.st_size) != file_.size || mtime != file_.mtime) {
    ::close(fd_);
    throw std::system_error(EAGAIN, std::generic_category(), file_.name + " changed while being opened");
  }
  display_name_ = display_name(file_.name);
  cut_message(display_name_, kMaxRejectLocation - 32);  // room for ":<line>"
  meta_prefix_ = "{\"file\":" + json_string(display_name_) + ",\"line\":";

  // Delimiter detection looks at the start of the file only.
  std::string head(static_cast<size_t>(std::min<uint64_t>(file_.size, 64 << 10)), '\0');
  ssize_t got = head.empty() ? 0 : ::pread(fd_, head.data(), head.size(), 0);
  if (got < 0) {
    int err = errno;
    ::close(fd_);
    throw std::system_error(err, std::generic_category(), "cannot read " + file_.path.string());
  }
  head.resize(static_cast<size_t>(got));
  delimiter_ = config_.delimiter != 0 ? config_.delimiter : detect_delimiter(head);
  const ReaderOptions options{delimiter_, config_.trim, config_.max_row_bytes};

  auto header_reader = std::make_unique<RowReader>(options, 0, 1);
  header_reader->feed(head);
  read_pos_ = head.size();
  if (read_pos_ >= file_.size) header_reader->finish();
  RowReader::Status s;
  while ((s = header_reader->next(header_row_)) == RowReader::Status::need_more) fill(*header_reader);
  if (s == RowReader::Status::end) {  // empty file (or blank lines only)
    reader_ = std::move(header_reader);
    return;
  }
  if (!header_row_.error.empty()) {
    file_error_ = (config_.header ? "header row is malformed: " : "first row is malformed: ") + header_row_.error;
    return;
  }
  std::vector<std::string> names(header_row_.fields.size());
  for (size_t i = 0; i < names.size(); ++i) {
    if (!config_.header) {
      names[i] = std::to_string(i + 1);
      continue;
    }
    std::string error;
    if (!decoder_.to_utf8(header_row_.fields[i], names[i], error)) {
      file_error_ = "header column " + std::to_string(i + 1) + ": " + error;
      return;
    }
  }
  columns_ = normalize_header(std::move(names));
  builder_ = std::make_unique<RecordBuilder>(columns_, config_, warnings_);
  if (!config_.key_column.empty() && builder_->key_index() < 0)
    file_error_ = "key_column '" + config_.key_column + "' is not in the header";
  if (!config_.id_column.empty() && builder_->id_index() < 0)
    file_error_ = "id_column '" + config_.id_column + "' is not in the header";
  if (config_.header) header_raw_ = header_row_.raw;
  if (!file_error_.empty()) return;

  uint64_t data_offset = config_.header ? header_row_.end_offset : 0;
  uint64_t data_line = config_.header ? header_row_.next_line : 1;
  if (offset > file_.size) {
    warnings_.push_back("resume offset " + std::to_string(offset) + " is beyond the end; reading from the start");
  } else if (offset > data_offset) {
    data_offset = offset;
    data_line = line;
  }
  if (data_offset == header_reader->offset()) {
    reader_ = std::move(header_reader);
  } else {
    const bool resumed = data_offset == offset;
    reader_ = std::make_unique<RowReader>(options, data_offset, data_line, resumed ? from.horizon : 0,
                                          resumed && from.strict);
    read_pos_ = data_offset;
    if (read_pos_ >= file_.size) reader_->finish();
  }
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileSource::fill(RowReader& reader) {
  if (reader.finished()) throw std::logic_error("csv reader asked for input after the end");
  size_t want = std::max(kChunk, reader.buffered());  // grows with long rows: linear total work
  want = static_cast<size_t>(std::min<uint64_t>(want, file_.size - std::min(read_pos_, file_.size)));
  if (want == 0) {
    reader.finish();
    return true;
  }
  std::string buffer(want, '\0');
  ssize_t n;
  do {
    n = ::pread(fd_, buffer.data(), want, static_cast<off_t>(read_pos_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot read " + file_.path.string());
  if (n == 0) {  // the file shrank; its changed size is noticed before it is moved
    reader.finish();
    return true;
  }
  reader.feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
  read_pos_ += static_cast<uint64_t>(n);
  if (read_pos_ >= file_.size) reader.finish();
  return true;
}

Cursor FileSource::cursor(uint64_t offset, uint64_t line, bool eof) const {
  return Cursor{file_.name, file_.size, file_.mtime, offset, line, eof};
}

Cursor FileSource::position() const {
  if (!file_error_.empty()) return cursor(done_ ? file_.size : 0, done_ ? header_row_.next_line : 1, done_);
  Cursor c = cursor(reader_->offset(), reader_->line(), done_);
  if (!done_) {
    c.horizon = reader_->horizon();
    c.strict = reader_->strict();
  }
  return c;
}

std::string FileSource::column_label(size_t i) const {
  std::string name = columns_[i];
  cut_message(name, 200);
  return "'" + name + "'";
}

void FileSource::add_reject(Batch& batch, const Row& row, std::string reason) {
  // The row's size (an over-long line keeps only a prefix in raw), line break included.
  const uint64_t row_bytes = std::max<uint64_t>(row.raw.size(), row.end_offset - row.offset);
  std::string_view input = row.raw;
  bool cut = row.raw_cut;
  if (input.size() > kMaxRejectRaw) {  // before decoding: never convert more than is kept
    input = input.substr(0, kMaxRejectRaw);
    cut = true;
  }
  std::string raw;
  std::string error;
  if (!decoder_.to_utf8(input, raw, error)) raw = escape_invalid_utf8(input);
  if (raw.size() > kMaxRejectRaw) {
    cut_utf8(raw, kMaxRejectRaw);
    cut = true;
  }
  cut_message(reason, kMaxRejectReason - 96);
  if (cut)
    reason += " (raw cut to its first " + std::to_string(raw.size()) + " bytes of " + std::to_string(row_bytes) + ")";
  Reject r{std::move(raw), std::move(reason), display_name_ + ":" + std::to_string(row.line)};
  batch.bytes += unit_cost(r);
  batch.unit.rejects.push_back(std::move(r));
}

void FileSource::process(const Row& row, Batch& batch) {
  if (!row.error.empty()) return add_reject(batch, row, row.error);
  if (std::all_of(row.fields.begin(), row.fields.end(), [](const std::string& f) { return f.empty(); })) {
    ++batch.skipped;  // e.g. ";;;" lines of spreadsheet exports
    return;
  }
  if (row.fields.size() != builder_->column_count()) {
    return add_reject(batch, row,
                      "expected " + std::to_string(builder_->column_count()) + " columns, found " +
                          std::to_string(row.fields.size()));
  }
  values_.resize(row.fields.size());
  for (size_t i = 0; i < row.fields.size(); ++i) {
    values_[i].clear();
    std::string error;
    if (!decoder_.to_utf8(row.fields[i], values_[i], error))
      return add_reject(batch, row, "column " + column_label(i) + ": " + error);
  }
  // The host refuses a whole unit for one record over a limit: such a row is a reject instead.
  const int key = builder_->key_index();
  if (key >= 0 && values_[static_cast<size_t>(key)].size() > TP_MAX_KEY_BYTES)
    return add_reject(batch, row,
                      "column " + column_label(static_cast<size_t>(key)) + " (key_column) has " +
                          std::to_string(values_[static_cast<size_t>(key)].size()) + " bytes; the hub allows at most " +
                          std::to_string(TP_MAX_KEY_BYTES) + " bytes for a key");
  const int id = builder_->id_index();
  if (id >= 0 && values_[static_cast<size_t>(id)].size() > TP_MAX_ID_BYTES)
    return add_reject(batch, row,
                      "column " + column_label(static_cast<size_t>(id)) + " (id_column) has " +
                          std::to_string(values_[static_cast<size_t>(id)].size()) + " bytes; the hub allows at most " +
                          std::to_string(TP_MAX_ID_BYTES) + " bytes for an id");
  Record r;
  r.type = config_.type;
  const std::string line = std::to_string(row.line);
  r.meta = meta_prefix_ + line + "}";
  if (!builder_->build(values_, r.data, TP_MAX_RECORD_BYTES - r.meta.size()))
    return add_reject(batch, row,
                      "the row's record would be larger than the hub allows (TP_MAX_RECORD_BYTES, " +
                          std::to_string(TP_MAX_RECORD_BYTES) + " bytes of data + meta as JSON); the row has " +
                          std::to_string(row.raw.size()) + " bytes");
  if (id >= 0 && !values_[static_cast<size_t>(id)].empty()) {
    r.id = values_[static_cast<size_t>(id)];
  } else {
    r.id = deterministic_id(file_.name, row.line, row_hash(header_raw_, row.raw));
  }
  if (key >= 0) r.key = values_[static_cast<size_t>(key)];
  r.ts_ms = file_.mtime / 1000000;
  batch.bytes += unit_cost(r);
  batch.unit.records.push_back(std::move(r));
  batch.record_lines.push_back(row.line);
}

Batch FileSource::next_batch(size_t max_rows) {
  Batch batch;
  batch.start = position();
  if (!file_error_.empty()) {
    if (!done_) {
      add_reject(batch, header_row_, file_error_ + "; the file was not imported");
      done_ = true;
    }
    batch.end = position();
    batch.unit.cursor = to_json(batch.end);
    return batch;
  }
  bool eof = done_;
  while (!eof && batch.unit.records.size() + batch.unit.rejects.size() < max_rows && batch.bytes < kMaxBatchBytes) {
    RowReader::Status s = reader_->next(row_);
    if (s == RowReader::Status::need_more) {
      fill(*reader_);
    } else if (s == RowReader::Status::end) {
      eof = true;
    } else {
      process(row_, batch);
    }
  }
  while (!eof) {
    RowReader::Status s = reader_->peek();
    if (s != RowReader::Status::need_more) {
      eof = s == RowReader::Status::end;
      break;
    }
    fill(*reader_);
  }
  done_ = eof;
  batch.end = position();
  batch.unit.cursor = to_json(batch.end);
  return batch;
}

}  // namespace touchpoint::csv
