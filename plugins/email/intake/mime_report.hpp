// The MIME layer (GMime): finds the machine-readable part of a
// multipart/report and the returned original headers, and hands back their
// fields as text. Knows nothing about classification or records.
#ifndef TP_EMAIL_INTAKE_MIME_REPORT_HPP
#define TP_EMAIL_INTAKE_MIME_REPORT_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tp_email::intake::detail {

/// Header-style fields in their order; names in lower case, values unfolded UTF-8.
using Fields = std::vector<std::pair<std::string, std::string>>;

/// The first value of a field, empty when absent.
std::string field(const Fields& fields, std::string_view lower_name);

enum class ReportType { dsn, arf };

struct RawReport {
  ReportType type = ReportType::dsn;
  std::string message_id;             ///< the report's own Message-ID
  std::string date;                   ///< the report's Date header
  Fields envelope;                    ///< the report's To, Delivered-To, X-Original-To headers
  Fields per_message;                 ///< DSN per-message fields, or the ARF fields
  std::vector<Fields> per_recipient;  ///< DSN per-recipient groups, at most max_recipients
  std::size_t recipients_seen = 0;    ///< every per-recipient group, also those dropped
  bool has_original = false;          ///< a returned message or its headers were found
  Fields original;                    ///< Message-ID, X-Touchpoint-Contact, Return-Path of the original
};

/// Messages with more MIME containers than this are refused before parsing (nesting bombs).
inline constexpr std::size_t kMaxContainers = 64;

/// Fills `out` from one RFC 5322 message; returns an error text, empty on success.
std::string read_report(std::string_view rfc822, std::size_t max_recipients, RawReport& out);

/// Splits a report body into its blank-line separated groups and parses each as fields.
/// Parses at most `max_groups` groups; returns the number of groups seen.
std::size_t parse_field_groups(std::string_view body, std::size_t max_groups, std::vector<Fields>& out);

}  // namespace tp_email::intake::detail

#endif
