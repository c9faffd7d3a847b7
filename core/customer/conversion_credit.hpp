#pragma once
// When a conversion event (a purchase, a signed contract) is applied, this
// finds the contacts whose window it falls into and writes, in the same
// transaction, what the reports count: each attribution model's credit per
// campaign and channel, the contact's conversion for the funnel, and the
// campaign group (treated or held out) for the control-group comparison.

#include "report/conversion.hpp"
#include "store/store.hpp"

namespace touchpoint::core::customer {

/// Only for events of a type the config counts as a conversion.
void credit_conversion(StoreTxn& txn, const report::ConversionConfig& config, const EventRow& event);

/// What one conversion event adds to the reports, given the contacts of its
/// profile (any order); no credits when the event counts for nobody.
ConversionRows conversion_rows(const std::vector<ContactRow>& contacts, const report::ConversionConfig& config,
                               const EventRow& event);

}  // namespace touchpoint::core::customer
