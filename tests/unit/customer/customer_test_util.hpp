#pragma once
// The customer model over every store backend: a CustomerStore on a fresh
// store of the backend under test, with helpers to build records, apply
// them, and look at the result through the public API only.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "config/customer_config.hpp"
#include "customer/customer_store.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core::test {

using customer::CustomerStore;
using Strings = std::vector<std::string>;

/// The secret of the tombstones' keyed hash in these tests.
inline const std::string kTombstoneKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

inline Record rec(std::string id, std::string source, std::string key, Json data, std::string type = "profile",
                  int64_t ts = 1000) {
  Record r;
  r.id = std::move(id);
  r.type = std::move(type);
  r.source = std::move(source);
  r.key = std::move(key);
  r.ts_ms = ts;
  r.data = std::move(data);
  return r;
}

/// Milliseconds of an RFC 3339 time (the test's own literals: always valid).
inline int64_t ms(const std::string& rfc3339) { return parse_rfc3339_ms(rfc3339).value(); }

/// The `customer:` section of a hub config, parsed as the hub does.
inline CustomerConfig customer_config(const std::string& yaml) {
  if (yaml.empty()) return CustomerConfig{};
  return read_customer_config(YAML::Load(yaml), ConfigSource("test.yaml"), "/tmp", "/tmp");
}

class CustomerTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    customers_ = std::make_unique<CustomerStore>(store(), config_, kTombstoneKey);
  }
  void TearDown() override {
    customers_.reset();
    BackendTest::TearDown();
  }

  /// Replaces the configuration (call before applying anything).
  void configure(const std::string& yaml) {
    config_ = customer_config(yaml);
    customers_ = std::make_unique<CustomerStore>(store(), config_, kTombstoneKey);
  }
  /// A restart: store and customer model opened again (caches empty).
  void reopen_all() {
    customers_.reset();
    reopen();
    customers_ = std::make_unique<CustomerStore>(store(), config_, kTombstoneKey);
  }

  CustomerStore& cs() { return *customers_; }

  ApplyStats apply(std::vector<Record> records, uint64_t journal_seq = 0, const std::string& pipeline = "p") {
    ApplyBatch b;
    b.journal_seq = journal_seq;
    for (Record& r : records) b.records.push_back({std::move(r), pipeline});
    return cs().apply(b);
  }
  ApplyStats apply1(Record r) { return apply({std::move(r)}); }

  /// The live profile a reference names; 0 when none.
  int64_t id_of(const std::string& ref) { return cs().resolve(ref).value_or(0); }
  customer::ProfileView view_of(const std::string& ref) {
    const int64_t p = id_of(ref);
    EXPECT_NE(p, 0) << "no profile for " << ref;
    std::optional<customer::ProfileView> v = cs().view(p, 1000);
    if (!v) throw std::runtime_error("no view for " + ref);
    return *v;
  }
  Json attributes_of(const std::string& ref) {
    const int64_t p = id_of(ref);
    if (p == 0) return Json();
    return Json::parse(store().reads().profile(p)->attributes);
  }
  Json lineage_of(const std::string& ref, const std::string& attribute) {
    const customer::ProfileView v = view_of(ref);
    return v.state.lineage().value(attribute, Json());
  }
  Strings identities_of(const std::string& ref) {
    Strings out;
    for (const IdentityRow& i : store().reads().identities_of(id_of(ref))) out.push_back(i.kind + ":" + i.value);
    return out;
  }
  Strings dead_letter_reasons() {
    Strings out;
    for (const DeadLetter& d : store().dlq_list({})) out.push_back(d.reason);
    return out;
  }

  CustomerConfig config_;
  std::unique_ptr<CustomerStore> customers_;
};

#define TP_INSTANTIATE_FOR_BACKENDS(Suite) \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(backends()), backend_name)

}  // namespace touchpoint::core::test
