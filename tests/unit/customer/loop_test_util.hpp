#pragma once
// The customer model with the contact loop on top, for the suites that apply
// contact requests and responses: a rulebook written to a temporary file, its
// decider, and the loop with the channels' sinks, rebuilt whenever the
// customer model is (the decider holds on to it).

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "contact/contact_loop.hpp"
#include "contact/decider.hpp"
#include "customer_test_util.hpp"

namespace touchpoint::core::test {

class LoopTest : public CustomerTest {
 protected:
  /// From SetUp(), after CustomerTest::SetUp(): the rulebook's YAML and channel -> sink instance.
  void start_loop(const char* rulebook, std::map<std::string, std::string> sinks) {
    rulebook_file_ = std::filesystem::temp_directory_path() /
                     ("tp-loop-rulebook-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".yaml");
    std::ofstream(rulebook_file_) << rulebook;
    sinks_ = std::move(sinks);
    make_decider();
    make_loop(ContactConfig{});
  }
  void TearDown() override {
    if (customers_) customers_->set_loop_handler(nullptr);
    loop_.reset();
    decider_.reset();
    if (!rulebook_file_.empty()) std::filesystem::remove(rulebook_file_);
    CustomerTest::TearDown();
  }
  /// A new contact loop with this configuration (the same rulebook and sinks).
  void make_loop(ContactConfig config) {
    loop_ = std::make_unique<contact::ContactLoop>(*decider_, std::move(config));
    loop_->set_channel_sinks(sinks_);
    cs().set_loop_handler(loop_.get());
  }
  /// configure() for a suite with the loop: the customer model, its decider and the loop anew.
  void configure_with_loop(const std::string& yaml) {
    if (customers_) customers_->set_loop_handler(nullptr);
    loop_.reset();
    decider_.reset();
    configure(yaml);
    make_decider();
    make_loop(ContactConfig{});
  }

  std::unique_ptr<contact::Decider> decider_;
  std::unique_ptr<contact::ContactLoop> loop_;

 private:
  void make_decider() {
    decider_ = std::make_unique<contact::Decider>(
        cs(), std::make_shared<const rules::Rulebook>(rules::Rulebook::load(rulebook_file_)));
  }

  static inline int counter_ = 0;
  std::filesystem::path rulebook_file_;
  std::map<std::string, std::string> sinks_;
};

}  // namespace touchpoint::core::test
