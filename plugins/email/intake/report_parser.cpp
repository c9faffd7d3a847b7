// parse_report: RawReport (MIME layer) -> classified, correlated responses.
#include <gmime/gmime.h>

#include <new>

#include "classify.hpp"
#include "correlate.hpp"
#include "hash.hpp"
#include "intake.hpp"
#include "mime_report.hpp"
#include "text_util.hpp"

namespace tp_email::intake {

namespace {

using detail::field;
using detail::Fields;

constexpr std::size_t kMaxDiagnosticBytes = 1000;
constexpr std::size_t kMaxProviderIdBytes = 256;  // TP_MAX_ID_BYTES: the hub keeps no more

// "rfc822; Anna@Example.DE" -> "anna@example.de"
std::string address_of(std::string_view typed) {
  std::string_view v = typed;
  if (const std::size_t semi = v.find(';'); semi != std::string_view::npos) v = v.substr(semi + 1);
  v = detail::trim(v);
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  return detail::to_lower(detail::trim(v));
}

// "smtp; 550 5.1.1 user unknown" -> "550 5.1.1 user unknown"
std::string diagnostic_text(std::string_view typed) {
  std::string_view v = detail::trim(typed);
  const std::size_t semi = v.find(';');
  if (semi != std::string_view::npos && semi < 16 && v.substr(0, semi).find(' ') == std::string_view::npos)
    v = detail::trim(v.substr(semi + 1));
  return detail::truncate_utf8(v, kMaxDiagnosticBytes);
}

std::string rfc3339(std::string_view date) {
  if (detail::trim(date).empty()) return {};
  const std::string text(detail::trim(date));
  GDateTime* parsed = g_mime_utils_header_decode_date(text.c_str());
  if (parsed == nullptr) return {};
  GDateTime* utc = g_date_time_to_utc(parsed);
  g_date_time_unref(parsed);
  if (utc == nullptr) return {};
  std::string out;
  // GMime reads an unparseable date as the epoch; no bounce is that old.
  if (g_date_time_get_year(utc) >= 1990) {
    gchar* s = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
    if (s != nullptr) out = s;
    g_free(s);
  }
  g_date_time_unref(utc);
  return out;
}

std::string first_date(std::initializer_list<std::string_view> candidates) {
  for (std::string_view c : candidates)
    if (std::string d = rfc3339(c); !d.empty()) return d;
  return {};
}

std::string response_id(const std::string& report_key, const std::string& recipient) {
  return "email-" + detail::sha256_hex(report_key + "\n" + recipient).substr(0, 32);
}

bool complaint_type(const std::string& t) { return t == "abuse" || t == "fraud" || t == "virus" || t == "other"; }

ParseResult build(std::string_view rfc822, const detail::RawReport& raw, const ParseLimits& limits) {
  ParseResult result;
  const detail::Correlation c = detail::correlate(raw);
  if (c.contact_id.empty() && c.provider_id.empty()) {
    result.error =
        "report names no contact: no Original-Envelope-Id, bounces+ address, original Message-ID or "
        "X-Touchpoint-Contact";
    return result;
  }
  const std::string mid = detail::bare_message_id(raw.message_id);
  const std::string report_key = mid.empty() ? "sha256:" + detail::sha256_hex(rfc822) : "mid:" + mid;
  auto base = [&](const std::string& recipient) {
    Response r;
    r.id = response_id(report_key, recipient);
    r.contact_id = c.contact_id;
    r.provider_id = detail::truncate_utf8(c.provider_id, kMaxProviderIdBytes);
    r.recipient = recipient;
    return r;
  };

  if (raw.type == detail::ReportType::arf) {
    const std::string type = detail::to_lower(detail::trim(field(raw.per_message, "feedback-type")));
    if (!complaint_type(type)) {
      result.error = type.empty()
                         ? "feedback report without Feedback-Type"
                         : "feedback report of type " + detail::truncate_utf8(type, 64) + " is not a complaint";
      return result;
    }
    Response r = base(address_of(field(raw.per_message, "original-rcpt-to")));
    r.kind = "complaint";
    r.feedback_type = type;
    r.at = first_date({field(raw.per_message, "arrival-date"), field(raw.per_message, "received-date"), raw.date});
    result.responses.push_back(std::move(r));
    return result;
  }

  std::size_t unusable = 0;
  for (const Fields& g : raw.per_recipient) {
    const std::string diagnostic = diagnostic_text(field(g, "diagnostic-code"));
    std::string status = detail::find_status(field(g, "status"));
    if (status.empty()) status = detail::find_status(diagnostic);
    const std::string kind = detail::classify(field(g, "action"), status, diagnostic);
    if (kind.empty()) {
      ++unusable;
      continue;
    }
    std::string recipient = address_of(field(g, "final-recipient"));
    if (recipient.empty()) recipient = address_of(field(g, "original-recipient"));
    Response r = base(recipient);
    r.kind = kind;
    r.status = status;
    r.diagnostic = diagnostic;
    r.at = first_date({field(g, "last-attempt-date"), field(raw.per_message, "arrival-date"), raw.date});
    result.responses.push_back(std::move(r));
  }
  if (result.responses.empty()) {
    result.error = "delivery status without a usable recipient group (no Action or Status)";
    return result;
  }
  if (raw.recipients_seen > raw.per_recipient.size()) {
    result.notice = "report lists " + std::to_string(raw.recipients_seen) + " recipients; only the first " +
                    std::to_string(raw.per_recipient.size()) + " were read";
  } else if (unusable > 0) {
    result.notice = std::to_string(unusable) + " recipient group(s) without Action or Status were skipped";
  }
  (void)limits;
  return result;
}

}  // namespace

ParseResult parse_report(std::string_view rfc822, const ParseLimits& limits) {
  try {
    detail::RawReport raw;
    if (std::string error = detail::read_report(rfc822, limits.max_recipients, raw); !error.empty()) {
      ParseResult r;
      r.error = std::move(error);
      return r;
    }
    return build(rfc822, raw, limits);
  } catch (const std::bad_alloc&) {
    ParseResult r;
    r.error = "out of memory while parsing";
    return r;
  }
}

}  // namespace tp_email::intake
