#include "mime_report.hpp"

#include <algorithm>
#include <cctype>
#include <deque>

#include "gmime_util.hpp"
#include "text_util.hpp"

namespace tp_email::intake::detail {

std::string field(const Fields& fields, std::string_view lower_name) {
  for (const auto& [name, value] : fields)
    if (name == lower_name) return value;
  return {};
}

namespace {

// Counts Content-Type headers that open a container (multipart/*, message/*),
// so a nesting bomb is refused before GMime recurses into it.
std::size_t count_containers(std::string_view s) {
  std::size_t count = 0;
  std::size_t pos = 0;
  static constexpr std::string_view kName = "content-type";
  while (pos < s.size()) {
    std::size_t eol = s.find('\n', pos);
    std::string_view line = s.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.size() > kName.size() && iequals(line.substr(0, kName.size()), kName)) {
      std::size_t i = kName.size();
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] == ':') {
        // The value may start on a folded continuation line.
        std::size_t j = pos + i + 1;
        while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j])) != 0) ++j;
        std::string_view rest = s.substr(j, 10);
        if (istarts_with(rest, "multipart") || istarts_with(rest, "message")) ++count;
      }
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return count;
}

Fields header_fields(GMimeObject* o) {
  Fields out;
  GMimeHeaderList* list = g_mime_object_get_header_list(o);
  if (list == nullptr) return out;
  const int n = g_mime_header_list_get_count(list);
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    if (h == nullptr) continue;
    std::string name = to_lower(str_or_empty(g_mime_header_get_name(h)));
    if (name.empty()) continue;
    out.emplace_back(std::move(name), normalize_space(str_or_empty(g_mime_header_get_value(h))));
  }
  return out;
}

Fields keep(const Fields& all, std::initializer_list<std::string_view> names) {
  Fields out;
  for (const auto& f : all)
    if (std::find(names.begin(), names.end(), f.first) != names.end()) out.push_back(f);
  return out;
}

// Breadth-first, not into attached messages: the report may be wrapped in a
// multipart/mixed by a forwarding system, but never sits inside a returned message.
GMimeMultipart* find_report(GMimeObject* top) {
  std::deque<std::pair<GMimeObject*, int>> queue{{top, 0}};
  while (!queue.empty()) {
    auto [o, depth] = queue.front();
    queue.pop_front();
    auto* mp = as<GMimeMultipart>(o, GMIME_TYPE_MULTIPART);
    if (mp == nullptr) continue;
    if (is_type(o, "multipart", "report")) return mp;
    if (depth >= 3) continue;
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) queue.emplace_back(g_mime_multipart_get_part(mp, i), depth + 1);
  }
  return nullptr;
}

std::string content_type_text(GMimeObject* o) {
  GMimeContentType* ct = o != nullptr ? g_mime_object_get_content_type(o) : nullptr;
  if (ct == nullptr) return "none";
  return to_lower(str_or_empty(g_mime_content_type_get_media_type(ct))) + "/" +
         to_lower(str_or_empty(g_mime_content_type_get_media_subtype(ct)));
}

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

Fields parse_group(std::string_view text, GMimeParserOptions* options) {
  std::string block(text);
  block += "\n\n";
  GPtr<GMimeMessage> m = parse_message(block, options);
  if (!m) return {};
  return header_fields(object(m.get()));
}

}  // namespace

std::size_t parse_field_groups(std::string_view body, std::size_t max_groups, std::vector<Fields>& out) {
  OptionsPtr options = lenient_options();
  std::size_t seen = 0;
  std::size_t pos = 0;
  std::size_t group_start = std::string_view::npos;
  auto close_group = [&](std::size_t end) {
    if (group_start == std::string_view::npos) return;
    ++seen;
    if (out.size() < max_groups) {
      Fields f = parse_group(body.substr(group_start, end - group_start), options.get());
      if (!f.empty()) out.push_back(std::move(f));
    }
    group_start = std::string_view::npos;
  };
  while (pos <= body.size()) {
    std::size_t eol = body.find('\n', pos);
    const std::size_t end = eol == std::string_view::npos ? body.size() : eol;
    if (is_blank(body.substr(pos, end - pos))) {
      close_group(pos);
    } else if (group_start == std::string_view::npos) {
      group_start = pos;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  close_group(body.size());
  return seen;
}

std::string read_report(std::string_view rfc822, std::size_t max_recipients, RawReport& out) {
  if (count_containers(rfc822) > kMaxContainers)
    return "more than " + std::to_string(kMaxContainers) + " nested MIME containers (refused unparsed)";
  OptionsPtr options = lenient_options();
  GPtr<GMimeMessage> message = parse_message(rfc822, options.get());
  if (!message) return "not an RFC 5322 message (no header block)";

  const Fields top_headers = header_fields(object(message.get()));
  out.message_id = normalize_space(str_or_empty(g_mime_message_get_message_id(message.get())));
  out.date = field(top_headers, "date");
  out.envelope = keep(top_headers, {"to", "delivered-to", "x-original-to"});

  GMimeObject* body = g_mime_message_get_mime_part(message.get());
  GMimeMultipart* report = find_report(body);
  if (report == nullptr) return "not a delivery or feedback report (Content-Type " + content_type_text(body) + ")";

  GMimeContentType* rct = g_mime_object_get_content_type(object(report));
  const std::string report_type = to_lower(str_or_empty(g_mime_content_type_get_parameter(rct, "report-type")));

  GMimePart* machine = nullptr;
  const int n = g_mime_multipart_get_count(report);
  for (int i = 0; i < n; ++i) {
    GMimeObject* child = g_mime_multipart_get_part(report, i);
    const bool dsn =
        is_type(child, "message", "delivery-status") || is_type(child, "message", "global-delivery-status");
    const bool arf = is_type(child, "message", "feedback-report");
    auto* leaf = as<GMimePart>(child, GMIME_TYPE_PART);
    if ((dsn || arf) && leaf != nullptr && machine == nullptr) {
      machine = leaf;
      out.type = dsn ? ReportType::dsn : ReportType::arf;
      continue;
    }
    if (out.has_original) continue;
    auto original_fields = [](GMimeObject* o) {
      return keep(header_fields(o), {"message-id", "x-touchpoint-contact", "return-path"});
    };
    if (auto* mp = as<GMimeMessagePart>(child, GMIME_TYPE_MESSAGE_PART)) {
      GMimeMessage* original = g_mime_message_part_get_message(mp);
      if (original != nullptr) {
        out.original = original_fields(object(original));
        out.has_original = true;
      }
    } else if (leaf != nullptr &&
               (is_type(child, "text", "rfc822-headers") || is_type(child, "message", "global-headers"))) {
      GPtr<GMimeMessage> headers = parse_message(part_content(leaf) + "\n\n", options.get());
      if (headers) {
        out.original = original_fields(object(headers.get()));
        out.has_original = true;
      }
    }
  }
  if (machine == nullptr) {
    if (!report_type.empty() && report_type != "delivery-status" && report_type != "feedback-report")
      return "multipart/report of report-type " + report_type + " is not a delivery or feedback report";
    return "multipart/report without a message/delivery-status or message/feedback-report part";
  }

  const std::string text = part_content(machine);
  std::vector<Fields> groups;
  if (out.type == ReportType::arf) {
    parse_field_groups(text, 4, groups);
    for (auto& g : groups) out.per_message.insert(out.per_message.end(), g.begin(), g.end());
    if (out.per_message.empty()) return "feedback report without fields";
    return {};
  }
  const std::size_t seen = parse_field_groups(text, max_recipients + 1, groups);
  if (groups.empty()) return "delivery status without fields";
  // A sender that leaves out the per-message group starts with a recipient.
  const bool first_is_recipient =
      !field(groups.front(), "final-recipient").empty() || !field(groups.front(), "action").empty();
  std::size_t first = 0;
  if (!first_is_recipient) {
    out.per_message = std::move(groups.front());
    first = 1;
  }
  for (std::size_t i = first; i < groups.size() && out.per_recipient.size() < max_recipients; ++i)
    out.per_recipient.push_back(std::move(groups[i]));
  out.recipients_seen = first_is_recipient ? seen : (seen > 0 ? seen - 1 : 0);
  if (out.per_recipient.empty()) return "delivery status without a per-recipient group";
  return {};
}

}  // namespace tp_email::intake::detail
