#include "composer.hpp"

#include <nlohmann/json.hpp>

#include "envelope.hpp"
#include "mime_message.hpp"
#include "tracking_links.hpp"
#include "tracking_token.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email {

namespace {

using nlohmann::json;

std::string string_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) throw ComposeError(std::string("data.") + key + " must be a string");
  return it->get<std::string>();
}

// "Frau Anna Müller" is not wanted in To:; the display name is first and last name.
std::string display_name(const json& data) {
  const auto c = data.find("customer");
  if (c == data.end() || !c->is_object()) return {};
  std::string name;
  for (const char* k : {"first_name", "last_name"}) {
    const auto it = c->find(k);
    if (it == c->end() || !it->is_string()) continue;
    std::string part;
    for (const char ch : it->get_ref<const std::string&>()) {
      const auto u = static_cast<unsigned char>(ch);
      if (u >= 0x20 && u != 0x7f) part.push_back(ch);  // a name never carries controls into a header
    }
    if (part.empty()) continue;
    if (!name.empty()) name.push_back(' ');
    name += part;
  }
  if (name.size() > 200) name.resize(200);
  return name;
}

// Whether this contact's links and opens are tracked: the tracking block is
// there, the campaign did not switch it off (vars.tracking: false) and, with
// a consent attribute, the customer has it set to true.
bool tracked(const TrackingConfig& t, const json& data) {
  if (!t.enabled) return false;
  if (const auto vars = data.find("vars"); vars != data.end() && vars->is_object()) {
    const auto off = vars->find("tracking");
    if (off != vars->end() && off->is_boolean() && !off->get<bool>()) return false;
  }
  if (t.consent_attribute.empty()) return true;
  const auto c = data.find("customer");
  if (c == data.end() || !c->is_object()) return false;
  const auto consent = c->find(t.consent_attribute);
  return consent != c->end() && consent->is_boolean() && consent->get<bool>();
}

// True for `base` itself and the URLs below it ("https://x/u" is not under "https://x/u2").
bool under(std::string_view url, std::string_view base) {
  return url.substr(0, base.size()) == base &&
         (url.size() == base.size() || url[base.size()] == '/' || url[base.size()] == '?');
}

// Click links and the open pixel in the HTML part. The hub's own links (the
// unsubscribe URL) and links the template marks data-tp-notrack stay direct.
std::string add_tracking(std::string html, const EmailConfig& config, const std::string& contact_id,
                         int64_t now_unix_s) {
  const TrackingConfig& t = config.tracking;
  const std::string& secret = config.unsubscribe.secret;
  if (t.clicks) {
    std::size_t rewritten = 0;
    html = rewrite_links(
        html,
        [&](const std::string& url) -> std::optional<std::string> {
          if (!trackable_url(url) || under(url, config.unsubscribe.url_base) || under(url, t.url_base))
            return std::nullopt;
          return t.url_base + "/c/" + sign_click_token(secret, contact_id, now_unix_s, url);
        },
        rewritten);
  }
  if (t.opens)
    html = insert_before_body_end(std::move(html), "<img src=\"" + t.url_base + "/o/" +
                                                       sign_open_token(secret, contact_id, now_unix_s) +
                                                       ".gif\" width=\"1\" height=\"1\" alt=\"\" "
                                                       "style=\"border:0;width:1px;height:1px\">");
  return html;
}

}  // namespace

Composed Composer::compose(std::string_view record_id, std::string_view data_text, int64_t now_unix_s) const {
  json data;
  try {
    data = json::parse(data_text);
  } catch (const json::exception& e) {
    throw ComposeError(std::string("data is not valid JSON: ") + e.what());
  }
  if (!data.is_object()) throw ComposeError("data must be a JSON object");

  Composed out;
  out.contact_id = string_field(data, "contact_id");
  if (out.contact_id.empty()) out.contact_id = std::string(record_id);
  if (!valid_contact_id(out.contact_id))
    throw ComposeError("contact id is missing or not 1-64 characters of [A-Za-z0-9._-]");
  const std::string channel = string_field(data, "channel");
  if (!channel.empty() && channel != "email") throw ComposeError("data.channel is '" + channel + "', not 'email'");
  const std::string to = string_field(data, "to");
  if (to.empty()) throw ComposeError("no address: data.to is missing");
  if (!valid_mailbox(to)) throw ComposeError("data.to is not a valid e-mail address");
  std::string template_name = string_field(data, "template");
  if (template_name.empty()) template_name = config_.default_template;
  if (template_name.empty()) throw ComposeError("no template: data.template is missing and no default_template");
  const auto tr = data.find("transactional");
  if (tr != data.end() && !tr->is_boolean() && !tr->is_null())
    throw ComposeError("data.transactional must be a boolean");
  const bool transactional = tr != data.end() && tr->is_boolean() && tr->get<bool>();

  const std::string token = sign_unsubscribe_token(config_.unsubscribe.secret, out.contact_id);
  const std::string unsubscribe_url = config_.unsubscribe.url_base + "/" + token;

  json context = data;  // customer.*, vars.*, campaign, offer, ... as the hub sent them
  context["contact_id"] = out.contact_id;
  context["unsubscribe_url"] = unsubscribe_url;
  Rendered rendered;
  try {
    rendered = templates_.render(template_name, context);
  } catch (const TemplateError& e) {
    throw ComposeError(e.what());
  }

  MessageParts parts;
  parts.message_id = out.contact_id + "@" + config_.message_id_domain;
  parts.from = config_.from;
  parts.to = Mailbox{display_name(data), to};
  parts.subject = std::move(rendered.subject);
  parts.text = std::move(rendered.text);
  parts.html = rendered.has_html && tracked(config_.tracking, data)
                   ? add_tracking(std::move(rendered.html), config_, out.contact_id, now_unix_s)
                   : std::move(rendered.html);
  parts.has_html = rendered.has_html;
  parts.contact_id = out.contact_id;
  parts.date_unix_s = now_unix_s;
  if (!transactional) {
    parts.list_unsubscribe = "<" + unsubscribe_url + ">";
    if (!config_.unsubscribe.mailto.empty())
      parts.list_unsubscribe += ", <mailto:" + config_.unsubscribe.mailto + "?subject=unsubscribe-" + token + ">";
  }
  out.message = build_mime_message(parts);
  if (out.message.size() > config_.max_message_bytes)
    throw ComposeError("the rendered message has " + std::to_string(out.message.size()) +
                       " bytes, more than max_message_bytes (" + std::to_string(config_.max_message_bytes) + ")");
  out.message_id = "<" + parts.message_id + ">";
  out.envelope = Envelope{verp_address(config_.return_path, out.contact_id), out.contact_id, to};
  return out;
}

}  // namespace tp_email
