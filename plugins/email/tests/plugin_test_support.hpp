// The plugin loaded through the SDK's test harness, sending to the real postfix.
#ifndef TP_EMAIL_PLUGIN_TEST_SUPPORT_HPP
#define TP_EMAIL_PLUGIN_TEST_SUPPORT_HPP

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <touchpoint/testing.hpp>
#include <vector>

#include "test_support.hpp"

namespace tp_email::test {

class PluginTest : public ::testing::Test {
 protected:
  PluginTest() : harness_(TP_EMAIL_PLUGIN), postfix_(Postfix::shared()) {
    write_template(templates_.path(), "spring", "{{customer.first_name}}, Ihr Zinssatz: {{vars.rate}}",
                   "Hallo {{customer.first_name}},\nZins {{vars.rate}}.\n{{unsubscribe_url}}\n",
                   "<p>Hallo {{customer.first_name}}</p>");
  }
  std::unique_ptr<touchpoint::testing::Instance> open(uint16_t port, const std::string& extra_smtp = {},
                                                      const std::string& extra_top = {}) {
    return harness_.open(sink_config(templates_.path(), port, extra_smtp, extra_top));
  }
  static touchpoint::testing::EmittedRecord message(const std::string& cid, const std::string& to,
                                                    const std::string& template_name = "spring") {
    return {cid, "message", "42", message_data(cid, to, "Anna", "Müller", template_name), "{}", 0};
  }
  bool logged(const std::string& needle) const {
    for (const auto& l : harness_.logs())
      if (l.message.find(needle) != std::string::npos) return true;
    return false;
  }

  touchpoint::testing::Harness harness_;
  Postfix& postfix_;
  TempDir templates_;
};

}  // namespace tp_email::test

#endif  // TP_EMAIL_PLUGIN_TEST_SUPPORT_HPP
