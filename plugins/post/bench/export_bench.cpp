// Exports N letters (default 1,000,000) through libtp_post.so in write() batches, the way the
// hub's contact loop hands them over, into a directory, and prints rows/s and peak RSS.
//
//   post_export_bench [rows] [batch] [dir] [fsync 0|1]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <touchpoint/testing.hpp>
#pragma GCC diagnostic pop

namespace {

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::string letter(size_t i) {
  char id[32];
  std::snprintf(id, sizeof(id), "c-%024zx", i);
  return std::string(R"({"contact_id":")") + id +
         R"(","channel":"post","campaign":"spring-savings","offer":"savings-plus","template":"spring-letter",)"
         R"("to":{"street":"Hauptstraße )" +
         std::to_string(i % 200 + 1) +
         R"(","zip":"10115","city":"Berlin","country":"DE"},)"
         R"("customer":{"profile_id":)" +
         std::to_string(i) + R"(,"salutation":"Frau","first_name":"Anna","last_name":"Müller"}})";
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t batch = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  const std::string dir = argc > 3 ? argv[3] : (std::filesystem::temp_directory_path() / "post-bench").string();
  const bool sync = argc > 4 ? std::string(argv[4]) != "0" : true;
  std::filesystem::remove_all(dir);
  touchpoint::testing::Harness h(TP_POST_PLUGIN);
  auto inst =
      h.open(R"({"target":{"dir":")" + dir + R"("},"delimiter":";","fsync":)" + (sync ? "true" : "false") + "}");
  const long rss_before = peak_rss_kib();
  const auto t0 = std::chrono::steady_clock::now();
  size_t sent = 0;
  std::vector<touchpoint::testing::EmittedRecord> records(batch);
  for (size_t done = 0; done < rows;) {
    const size_t n = std::min(batch, rows - done);
    records.resize(n);
    for (size_t k = 0; k < n; ++k) {
      records[k].id = "c-" + std::to_string(done + k);
      records[k].type = "message";
      records[k].key = std::to_string(done + k);
      records[k].data = letter(done + k);
    }
    for (const auto& o : inst->write(records)) sent += o.status == TP_OK ? 1 : 0;
    done += n;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.path().extension() == ".csv" ? 1 : 0;
  std::printf(
      "rows=%zu sent=%zu batch=%zu files=%zu fsync=%d seconds=%.2f rows_per_s=%.0f peak_rss_kib=%ld "
      "(before export %ld)\n",
      rows, sent, batch, files, sync ? 1 : 0, secs, static_cast<double>(rows) / secs, peak_rss_kib(), rss_before);
  inst->close();
  std::filesystem::remove_all(dir);
  return sent == rows ? 0 : 1;
}
