// The plugin must export exactly one function: the ABI entry point.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe.get())) > 0) out.append(buf, n);
  return out;
}

TEST(WebhookSymbols, ExportsOnlyTheEntryPoint) {
  const std::string out = run(std::string("'") + TP_WEBHOOK_NM + "' -D --defined-only '" + TP_WEBHOOK_PLUGIN + "'");
  ASSERT_FALSE(out.empty()) << "nm produced no output";
  std::set<std::string> functions;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string address, type, name;
    if (!(fields >> address >> type >> name)) continue;
    if (type == "T") functions.insert(name);
    // Exported weak functions (template instantiations leaking out) are just as bad.
    EXPECT_NE(type, "W") << line;
    EXPECT_NE(type, "i") << line;
  }
  EXPECT_EQ(functions, std::set<std::string>{"tp_plugin_negotiate_v1"}) << out;
}

}  // namespace
