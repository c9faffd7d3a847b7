// The real libtp_tcp.so through the SDK harness, driven over loopback with
// plain sockets: what arrives, what becomes a dead letter, backpressure, a lost
// unit, many connections, limits, and the acknowledgement on half-close.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <touchpoint/testing.hpp>

namespace touchpoint::tcp {
namespace {

using Json = nlohmann::json;
using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;
using namespace std::chrono_literals;

class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void half_close() { ::shutdown(fd_, SHUT_WR); }
  /// Everything the server writes until it closes (or the timeout passes).
  std::string read_all(std::chrono::milliseconds timeout = 10s) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  /// Closes with a reset (SO_LINGER 0), as a crashed client does.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
};

struct Tcp {
  explicit Tcp(Json config = Json::object()) : harness(TP_TCP_PLUGIN) {
    config["listen"] = "127.0.0.1:0";
    instance = harness.open(config.dump());
    port = static_cast<uint16_t>(harness.counters().at("tcp_listening_port"));
  }
  Harness harness;
  std::unique_ptr<touchpoint::testing::Instance> instance;
  uint16_t port = 0;
};

std::string lines(int from, int n, const std::string& extra = "") {
  std::string out;
  for (int i = from; i < from + n; ++i)
    out +=
        R"({"id":"r)" + std::to_string(i) + R"(","email":"c)" + std::to_string(i) + R"(@example.de")" + extra + "}\n";
  return out;
}

std::map<std::string, int> count_ids(const std::vector<EmittedRecord>& records) {
  std::map<std::string, int> n;
  for (const EmittedRecord& r : records) ++n[r.id];
  return n;
}

/// Sends, half-closes and returns the server's acknowledgement.
Json send_all(uint16_t port, const std::string& data, size_t piece = 0) {
  Client c(port);
  EXPECT_TRUE(c.connected());
  if (piece == 0) {
    EXPECT_TRUE(c.send(data));
  } else {
    for (size_t i = 0; i < data.size(); i += piece) EXPECT_TRUE(c.send(std::string_view(data).substr(i, piece)));
  }
  c.half_close();
  const std::string ack = c.read_all();
  return Json::parse(ack, nullptr, false);
}

TEST(TcpSource, LinesBecomeRecordsAndTheHalfCloseIsAnsweredOnceTheyAreDurable) {
  Tcp t;
  const std::string data = lines(0, 2000);
  const Json ack = send_all(t.port, data, 777);  // pieces that cut lines anywhere
  EXPECT_EQ(ack, (Json{{"accepted", 2000}, {"rejected", 0}}));
  // The acknowledgement follows the done() of every unit, so all are there.
  const auto records = t.harness.records();
  const auto n = count_ids(records);
  EXPECT_EQ(n.size(), 2000u);
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << id;
  EXPECT_EQ(records.front().type, "event");
  EXPECT_EQ(records.front().data, R"({"id":"r0","email":"c0@example.de"})");
  EXPECT_EQ(t.harness.counters()["tcp_records_accepted"], 2000);
}

TEST(TcpSource, HostileLinesBecomeDeadLettersWithTheirLineAndTheRestArrives) {
  Tcp t({{"max_line_bytes", 64 * 1024}, {"type", "profile"}, {"key_field", "email"}});
  std::string data = lines(0, 1);
  data += "{\"id\":\"broken\",\n";  // line 2: truncated JSON
  data += "[1,2,3]\n";              // line 3: not an object
  data +=
      "{\"id\":\"r1\",\"phone\":" + std::string(100000, '9') + "}\n";  // line 4: a 100,000-digit number, over the limit
  data += "{\"id\":\"bad\xff\xfe utf8\"}\n";                           // line 5: invalid UTF-8
  data += std::string(1000, '[') + std::string(1000, ']') + "\n";      // line 6: nesting far too deep
  data += "{\"id\":\"" + std::string(300, 'x') + "\"}\n";              // line 7: id over the host's 256 bytes
  data += "{\"id\":\"nul\",\"v\":\"a\\u0000b\"}\r\n";                  // line 8: NUL escaped, CRLF: fine
  data += "\n   \n";                                                   // 9, 10: blank, ignored
  data += "{\"id\":\"big\",\"phone\":\"" + std::string(60000, '5') + "\"}\n";  // 11: 60,000 digits in a string: fits
  data += "{\"id\":\"last-without-newline\"}";                                 // 12
  const Json ack = send_all(t.port, data, 4096);
  EXPECT_EQ(ack, (Json{{"accepted", 4}, {"rejected", 6}}));
  std::set<std::string> ids;
  for (const EmittedRecord& r : t.harness.records()) ids.insert(r.id);
  EXPECT_EQ(ids, (std::set<std::string>{"r0", "nul", "big", "last-without-newline"}));
  std::map<std::string, std::string> reason_by_line;
  for (const auto& r : t.harness.rejects()) {
    const size_t at = r.location.rfind("line ");
    ASSERT_NE(at, std::string::npos) << r.location;
    reason_by_line[r.location.substr(at + 5)] = r.reason;
    EXPECT_LE(r.raw.size(), 64u * 1024u);
  }
  ASSERT_EQ(reason_by_line.size(), 6u);
  EXPECT_NE(reason_by_line["2"].find("malformed JSON"), std::string::npos) << reason_by_line["2"];
  EXPECT_NE(reason_by_line["3"].find("expected a JSON object"), std::string::npos);
  EXPECT_NE(reason_by_line["4"].find("over max_line_bytes"), std::string::npos) << reason_by_line["4"];
  EXPECT_NE(reason_by_line["5"].find("malformed JSON"), std::string::npos) << reason_by_line["5"];
  EXPECT_NE(reason_by_line["6"].find("malformed JSON"), std::string::npos) << reason_by_line["6"];
  EXPECT_NE(reason_by_line["7"].find("TP_MAX_ID_BYTES"), std::string::npos) << reason_by_line["7"];
  for (const EmittedRecord& r : t.harness.records()) {
    if (r.id == "r0") {
      EXPECT_EQ(r.key, "c0@example.de");
    }
  }
}

TEST(TcpSource, AFullHubStopsTheReadingAndNothingIsLost) {
  Tcp t({{"read_buffer_bytes", 4096}, {"max_units_in_flight", 2}});
  t.harness.refuse_emits(TP_STATUS_BACKPRESSURE);
  Client c(t.port);
  ASSERT_TRUE(c.connected());
  // Far more than the socket buffers hold: the sender blocks until the hub has room.
  std::thread sender([&] {
    EXPECT_TRUE(c.send(lines(0, 20000, R"(,"pad":")" + std::string(200, 'p') + "\"")));
    c.half_close();
  });
  std::this_thread::sleep_for(300ms);  // the hub stays full for a while
  EXPECT_TRUE(t.harness.records().empty());
  t.harness.refuse_emits(TP_OK);
  sender.join();
  const Json ack = Json::parse(c.read_all(30s), nullptr, false);
  EXPECT_EQ(ack, (Json{{"accepted", 20000}, {"rejected", 0}}));
  const auto n = count_ids(t.harness.records());
  EXPECT_EQ(n.size(), 20000u);
  for (const auto& [id, times] : n) ASSERT_EQ(times, 1) << id;
  bool warned = false;
  for (const auto& l : t.harness.logs()) warned |= l.message.find("backpressure") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(TcpSource, AUnitTheHubLostIsEmittedAgain) {
  Tcp t;
  t.harness.lose_next_emits(2, TP_STATUS_RETRYABLE);
  const Json ack = send_all(t.port, lines(0, 500), 1000);
  EXPECT_EQ(ack, (Json{{"accepted", 500}, {"rejected", 0}}));
  const auto n = count_ids(t.harness.records());
  EXPECT_EQ(n.size(), 500u);
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << id;
  EXPECT_TRUE(t.harness.wait_for_losses(2));
}

TEST(TcpSource, AnEmitTheHubCannotTakeNowIsRetriedAndNeverDeadLettered) {
  // A failed journal answers RETRYABLE, an exception in the host INTERNAL:
  // neither says the records are bad, so they are kept and emitted again.
  Tcp t;
  t.harness.refuse_next_emits(2, TP_STATUS_RETRYABLE, "the journal failed: I/O error");
  const Json first = send_all(t.port, lines(0, 300), 1000);
  EXPECT_EQ(first, (Json{{"accepted", 300}, {"rejected", 0}}));
  t.harness.refuse_next_emits(1, TP_STATUS_INTERNAL, "unexpected exception");
  const Json second = send_all(t.port, lines(300, 100));
  EXPECT_EQ(second, (Json{{"accepted", 100}, {"rejected", 0}}));
  EXPECT_TRUE(t.harness.rejects().empty());
  const auto n = count_ids(t.harness.records());
  EXPECT_EQ(n.size(), 400u);
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << id;
}

TEST(TcpSource, RecordsOfAConnectionArriveInOrderWhenAUnitHasToWait) {
  // The first unit meets backpressure and waits for its retry; the reads
  // after it must not overtake it (a later value would lose to an older one).
  Tcp t(Json{{"read_buffer_bytes", 4096}});
  t.harness.refuse_next_emits(1, TP_STATUS_BACKPRESSURE, "full");
  const Json ack = send_all(t.port, lines(0, 3000), 1000);
  EXPECT_EQ(ack, (Json{{"accepted", 3000}, {"rejected", 0}}));
  const auto records = t.harness.records();
  ASSERT_EQ(records.size(), 3000u);
  for (size_t i = 0; i < records.size(); ++i) ASSERT_EQ(records[i].id, "r" + std::to_string(i));
}

TEST(TcpSource, AFloodOfBadLinesKeepsTenThousandDeadLettersPerReadAndCountsEveryLine) {
  // 200,000 two-byte bad lines (400 KB, sent at once, read up to 1 MiB at a
  // time): each read keeps at most 10,000 dead letters of its own and one
  // summary for the rest, so memory and the unit stay bounded.
  constexpr size_t kBad = 200000;
  Tcp t(Json{{"read_buffer_bytes", 1024 * 1024}});
  std::string data;
  for (size_t i = 0; i < kBad; ++i) data += "x\n";
  data += lines(0, 1);
  const Json ack = send_all(t.port, data);
  EXPECT_EQ(ack, (Json{{"accepted", 1}, {"rejected", kBad}}));
  size_t lines_counted = 0;
  size_t summaries = 0;
  for (const auto& r : t.harness.rejects()) {
    if (r.reason.find("not kept one by one") != std::string::npos) {
      ++summaries;
      lines_counted += std::stoul(r.reason);  // "<n> more bad lines ..."
      EXPECT_NE(r.location.find(" to tcp "), std::string::npos) << r.location;
    } else {
      ++lines_counted;
      EXPECT_EQ(r.raw, "x");
    }
  }
  EXPECT_EQ(lines_counted, kBad);
  // Reads of 400 KB sent at once are far larger than 10,000 lines (20 KB).
  EXPECT_GE(summaries, 1u);
  EXPECT_LT(t.harness.rejects().size(), kBad / 2);
  EXPECT_EQ(t.harness.records().size(), 1u);
}

TEST(TcpSource, ASilentConnectionIsClosedAfterTheIdleTimeoutAndFreesItsSlot) {
  Tcp t(Json{{"idle_timeout_ms", 200}, {"max_connections", 1}});
  Client silent(t.port);
  ASSERT_TRUE(silent.connected());
  ASSERT_TRUE(silent.send(lines(0, 1)));  // complete lines before the silence are kept
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(silent.read_all(5s), "") << "closed without an acknowledgement";
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 4s);
  EXPECT_EQ(t.harness.counters()["tcp_idle_closed"], 1);
  ASSERT_TRUE(t.harness.wait_for_records(1));
  // The slot is free again: a new connection is served.
  const Json ack = send_all(t.port, lines(1, 10));
  EXPECT_EQ(ack, (Json{{"accepted", 10}, {"rejected", 0}}));
}

TEST(TcpSource, ManyConnectionsAtOnceAndRecordsWithoutIdsGetDistinctOnes) {
  Tcp t(Json{{"threads", 2}});
  std::vector<std::thread> clients;
  std::vector<Json> acks(8);
  for (int k = 0; k < 8; ++k)
    clients.emplace_back([&, k] {
      std::string data;
      for (int i = 0; i < 1000; ++i) data += R"({"n":)" + std::to_string(k * 1000 + i) + "}\n";
      acks[static_cast<size_t>(k)] = send_all(t.port, data, 1500);
    });
  for (std::thread& c : clients) c.join();
  for (const Json& a : acks) EXPECT_EQ(a, (Json{{"accepted", 1000}, {"rejected", 0}}));
  const auto records = t.harness.records();
  EXPECT_EQ(records.size(), 8000u);
  EXPECT_EQ(count_ids(records).size(), 8000u) << "derived ids differ across connections and reads";
  std::set<int> values;
  for (const EmittedRecord& r : records) values.insert(Json::parse(r.data)["n"].get<int>());
  EXPECT_EQ(values.size(), 8000u);
}

TEST(TcpSource, AClientThatVanishesKeepsItsCompleteLinesAndAConnectionOverTheLimitIsClosed) {
  Tcp t(Json{{"max_connections", 1}});
  {
    Client c(t.port);
    ASSERT_TRUE(c.send(lines(0, 10) + R"({"id":"half)"));
    ASSERT_TRUE(t.harness.wait_for_records(10));
    Client over(t.port);  // the second connection
    EXPECT_EQ(over.read_all(5s), "") << "closed without a word";
    c.reset();
  }
  std::this_thread::sleep_for(200ms);
  const auto n = count_ids(t.harness.records());
  EXPECT_EQ(n.size(), 10u);
  EXPECT_EQ(n.count("half"), 0u) << "a line that never ended is not a record";
  // The slot is free again once the vanished connection is gone.
  Json ack;
  for (int i = 0; i < 50 && !ack.is_object(); ++i) {
    ack = send_all(t.port, lines(100, 1));
    if (!ack.is_object()) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ack, (Json{{"accepted", 1}, {"rejected", 0}}));
}

TEST(TcpSource, CloseWhileAClientIsSendingGivesNoAcknowledgementForWhatIsNotDurable) {
  Tcp t;
  t.harness.refuse_emits(TP_STATUS_BACKPRESSURE);
  Client c(t.port);
  ASSERT_TRUE(c.send(lines(0, 100)));
  std::this_thread::sleep_for(100ms);
  t.instance->close();
  c.half_close();
  EXPECT_EQ(c.read_all(5s), "") << "no ack: the client knows to send again";
  EXPECT_TRUE(t.harness.records().empty());
}

TEST(TcpSource, ValidateNamesTheWrongKey) {
  Harness h(TP_TCP_PLUGIN);
  std::string error;
  EXPECT_NE(h.validate(R"({"max_line_bytes":1})", &error), TP_OK);
  EXPECT_NE(error.find("'max_line_bytes'"), std::string::npos) << error;
  EXPECT_EQ(h.validate(R"({"listen":"127.0.0.1:0"})", &error), TP_OK) << error;
}

}  // namespace
}  // namespace touchpoint::tcp
