#include "rest_write.hpp"

#include <algorithm>

#include "rest_sync.hpp"

namespace touchpoint::rest {
namespace {

bool retryable_status(long s) { return s == 0 || s == 408 || s == 425 || s == 429 || s >= 500; }

/// The outcome of a whole answer that is not a success (the same for every record it carried).
WriteOutcome failure_of(const HttpResponse& r) {
  if (retryable_status(r.status))
    return {WriteOutcome::Kind::retryable,
            r.status == 0 ? "rest: " + r.error : "rest: HTTP " + std::to_string(r.status) + ": " + excerpt(r.body)};
  return {WriteOutcome::Kind::permanent, "rest: HTTP " + std::to_string(r.status) + ": " + excerpt(r.body, 1000)};
}

}  // namespace

RestWrite::RestWrite(HttpClient& http, const Config& config) : config_(config), write_(*config.write), http_(http) {}

std::vector<WriteOutcome> RestWrite::write(RecordSpan batch) {
  std::vector<WriteOutcome> out(batch.size());
  std::vector<HttpRequest> requests;  // one per record, or (batch) with only the url and headers set
  std::vector<Json> items;            // batch: the record's item
  std::vector<size_t> index;          // requests[k] / items[k] belong to batch[index[k]]
  for (size_t i = 0; i < batch.size(); ++i) {
    const RecordView& rec = batch[i];
    if (!write_.types.empty() &&
        std::find(write_.types.begin(), write_.types.end(), std::string(rec.type)) == write_.types.end()) {
      out[i].kind = WriteOutcome::Kind::skipped;
      continue;
    }
    const Json data = Json::parse(rec.data, nullptr, false);
    if (!data.is_object()) {
      out[i] = {WriteOutcome::Kind::permanent, "rest: the record's data is not a JSON object"};
      continue;
    }
    if (std::any_of(write_.skip_unless.begin(), write_.skip_unless.end(), [&](const std::string& p) {
          const Json::json_pointer at(p);
          return !data.contains(at) || data.at(at).is_null();
        })) {
      out[i].kind = WriteOutcome::Kind::skipped;  // e.g. a customer this CRM does not know
      continue;
    }
    TemplateContext ctx;
    ctx.subject = &data;
    ctx.variables = {{"record.id", std::string(rec.id)},
                     {"record.type", std::string(rec.type)},
                     {"record.source", std::string(rec.source)},
                     {"data", data}};
    if (!rec.key.empty()) ctx.variables["record.key"] = std::string(rec.key);
    HttpRequest req;
    req.method = write_.request.method;
    req.headers.push_back("Accept: application/json");
    try {
      // Path and query values are percent-encoded: an id such as "../admin" stays one segment.
      req.url = config_.base_url + write_.request.path.render(ctx, url_encode);
      append_query(req.url, write_.request, ctx);
      for (const auto& [name, t] : write_.request.headers) {
        std::string v = t.render(ctx, {}, true);
        if (v.find_first_of("\r\n") != std::string::npos) throw TemplateError("header " + name + " would break a line");
        req.headers.push_back(name + ": " + v);
      }
    } catch (const TemplateError& e) {
      out[i] = {WriteOutcome::Kind::permanent, std::string("rest: write template: ") + e.what()};
      continue;
    }
    if (!write_.request.body.empty()) {
      Json item = write_.request.body.render(ctx);
      if (write_.batch) {
        items.push_back(std::move(item));
      } else {
        req.body = dump_compact(item);
        req.headers.push_back("Content-Type: application/json");
      }
    }
    requests.push_back(std::move(req));
    index.push_back(i);
  }
  if (requests.empty()) return out;
  if (write_.batch) {
    write_batches(requests, items, index, out);
    return out;
  }

  std::vector<HttpResponse> answers;
  try {
    answers = http_.perform_all(std::move(requests));
  } catch (const std::exception& e) {
    // No token (refused or the token endpoint down): every record waits for a retry.
    for (size_t i : index) out[i] = {WriteOutcome::Kind::retryable, e.what()};
    return out;
  }
  for (size_t k = 0; k < answers.size(); ++k) {
    const HttpResponse& r = answers[k];
    out[index[k]] = r.status >= 200 && r.status < 300 ? WriteOutcome{} : failure_of(r);
  }
  return out;
}

void RestWrite::write_batches(const std::vector<HttpRequest>& singles, std::vector<Json>& items,
                              const std::vector<size_t>& index, std::vector<WriteOutcome>& out) {
  const BatchConfig& b = *write_.batch;
  const size_t per = static_cast<size_t>(b.max_records);
  std::vector<HttpRequest> requests;
  std::vector<std::pair<size_t, size_t>> ranges;  // [first, end) into items/index
  for (size_t first = 0; first < items.size(); first += per) {
    const size_t end = std::min(items.size(), first + per);
    Json list = Json::array();
    for (size_t k = first; k < end; ++k) list.push_back(std::move(items[k]));
    TemplateContext ctx;
    ctx.variables = {{"records", std::move(list)}, {"count", end - first}};
    HttpRequest req = singles[first];  // url and headers: the same for every record here
    req.body = dump_compact(b.body.render(ctx));
    req.headers.push_back("Content-Type: application/json");
    requests.push_back(std::move(req));
    ranges.emplace_back(first, end);
  }
  std::vector<HttpResponse> answers;
  try {
    answers = http_.perform_all(std::move(requests));
  } catch (const std::exception& e) {
    for (size_t i : index) out[i] = {WriteOutcome::Kind::retryable, e.what()};
    return;
  }
  for (size_t q = 0; q < answers.size(); ++q) {
    const HttpResponse& r = answers[q];
    const auto [first, end] = ranges[q];
    if (r.status < 200 || r.status >= 300) {
      const WriteOutcome o = failure_of(r);
      for (size_t k = first; k < end; ++k) out[index[k]] = o;
      continue;
    }
    const Json body = Json::parse(r.body, nullptr, false);
    const Json::json_pointer at(b.results);
    const Json* results = !body.is_discarded() && body.contains(at) && body.at(at).is_array() ? &body.at(at) : nullptr;
    if (results == nullptr || results->size() != end - first) {
      // Which records were written cannot be told: all of them again (an upsert is safe to repeat).
      for (size_t k = first; k < end; ++k)
        out[index[k]] = {WriteOutcome::Kind::retryable,
                         "rest: the answer has no list of " + std::to_string(end - first) +
                             " results at write.batch.results '" + b.results + "': " + excerpt(r.body, 200)};
      continue;
    }
    const Json::json_pointer ok_at(b.ok), reason_at(b.reason);
    for (size_t k = first; k < end; ++k) {
      const Json& res = (*results)[k - first];
      const bool ok = res.is_object() && res.contains(ok_at) && res.at(ok_at) == true;
      if (ok) {
        out[index[k]] = WriteOutcome{};
      } else {
        const std::string why = res.is_object() && !b.reason.empty() && res.contains(reason_at)
                                    ? text_of(res.at(reason_at))
                                    : dump_compact(res);
        out[index[k]] = {WriteOutcome::Kind::permanent, "rest: " + excerpt(why, 1000)};
      }
    }
  }
}

}  // namespace touchpoint::rest
