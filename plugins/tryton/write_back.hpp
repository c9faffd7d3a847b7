// What the hub learnt, written into Tryton (README.md, "Write-back"): one
// `feedback` record of the hub's contact loop at a time, idempotently: a
// record applied twice changes nothing the second time.
//
//   invalidate_channel  the matching contact mechanism (e-mail, phone) or
//                       address is deactivated, or only commented on
//   revoke_consent      the party gets the category "<prefix>no <channel> marketing"
//   purchase            a sale.opportunity (lead) with the product and the
//                       revenue, when the sale_opportunity module is activated
//   configured kinds    a note (ir.note) on the party
#ifndef TOUCHPOINT_TRYTON_WRITE_BACK_HPP
#define TOUCHPOINT_TRYTON_WRITE_BACK_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_rpc.hpp"
#include "tryton_config.hpp"

namespace touchpoint::tryton {

/// The feedback record is malformed: permanent, with the reason.
class BadFeedback : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WriteBackResult {
  std::vector<int64_t> parties;  ///< the parties it concerned (empty: the customer has no Tryton party)
  int writes = 0;                ///< changes made in Tryton (0 when everything was there already)
};

/// The note's text for a response (also how an existing note is recognised).
std::string note_text(const Json& feedback);
/// True when two phone numbers are the same line: the same E.164 number once
/// parsed by libphonenumber, numbers without a country code read in `region`.
bool same_phone(std::string_view a, std::string_view b, const std::string& region);

class WriteBack {
 public:
  WriteBack(JsonRpcClient& rpc, const Config& config) : rpc_(rpc), config_(config) {}
  /// Throws BadFeedback, TrytonError (Tryton refuses: permanent) or
  /// TrytonUnavailable (try again).
  WriteBackResult apply(std::string_view feedback_json);

 private:
  int apply_to_party(int64_t party, const Json& feedback);
  int invalidate(int64_t party, const Json& effect, const Json& feedback);
  int add_category(int64_t party, const std::string& name);
  int opportunity(int64_t party, const Json& effect, const Json& feedback);
  int note(int64_t party, const Json& feedback);
  bool opportunities_available();
  int64_t company();

  JsonRpcClient& rpc_;
  const Config& config_;
  std::map<std::string, int64_t> categories_;  // name -> party.category id
  std::optional<bool> opportunities_;
  int64_t company_ = 0;
};

}  // namespace touchpoint::tryton

#endif  // TOUCHPOINT_TRYTON_WRITE_BACK_HPP
