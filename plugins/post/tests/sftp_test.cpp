// Export and returns over SFTP against a real OpenSSH server (tests/fixtures/sftp/sshd.sh).
#include <gtest/gtest.h>

#include "sha256.hpp"
#include "test_support.hpp"

namespace touchpoint::post::test {
namespace {

struct Sftp : ::testing::Test {
  static void SetUpTestSuite() { server = new Sshd(); }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }
  void SetUp() override {
    static int n = 0;
    sub = "case" + std::to_string(++n);
    server->start();  // a test may have stopped it
  }
  fs::path remote(const std::string& p = "") const { return server->dir() / sub / p; }
  static Sshd* server;
  std::string sub;
  Harness h{TP_POST_PLUGIN};
};
Sshd* Sftp::server = nullptr;

std::vector<std::string> visible(const fs::path& dir) {
  std::vector<std::string> out;
  for (const std::string& n : names(dir))
    if (n[0] != '.') out.push_back(n);
  return out;
}

TEST_F(Sftp, ExportLandsDataFileAndManifestWithTheRightChecksum) {
  auto inst = h.open(nlohmann::json{{"target", {{"sftp", server->sftp(sub + "/upload")}}}}.dump());
  ASSERT_EQ(inst->check(), TP_OK);
  std::vector<EmittedRecord> batch;
  for (int i = 1; i <= 200; ++i) batch.push_back(letter(i));
  const auto outcomes = inst->write(batch);
  for (const auto& o : outcomes) ASSERT_EQ(o.status, TP_OK) << o.message;
  const auto files = visible(remote("upload"));
  ASSERT_EQ(files.size(), 2u);
  const std::string data = files[0];
  EXPECT_EQ(files[1], data + ".manifest.json");
  EXPECT_EQ(outcomes[199].message, data + ":200");
  const std::string csv = slurp(remote("upload/" + data));
  const auto manifest = nlohmann::json::parse(slurp(remote("upload/" + files[1])));
  EXPECT_EQ(manifest["sha256"], sha256_hex(csv));
  EXPECT_EQ(manifest["rows"], 200);
  EXPECT_EQ(names(remote("upload")).size(), 2u);  // no temporary name left
  // A second batch reuses the connection and lands beside the first.
  ASSERT_EQ(inst->write({letter(500)})[0].status, TP_OK);
  EXPECT_EQ(visible(remote("upload")).size(), 4u);
}

TEST_F(Sftp, KilledConnectionLeavesNoFinalNameAndRetryDeliversAfterRestart) {
  nlohmann::json sftp = server->sftp(sub + "/upload");
  sftp["max_send_bytes_per_s"] = 20000;  // slow enough to be caught mid-upload
  auto inst = h.open(nlohmann::json{{"target", {{"sftp", sftp}}}}.dump());
  std::vector<EmittedRecord> batch;
  for (int i = 1; i <= 2000; ++i) batch.push_back(letter(i));
  std::vector<Outcome> outcomes;
  std::thread writer([&] { outcomes = inst->write(batch); });
  const bool caught = eventually([&] {
    for (const std::string& n : names(remote("upload")))
      if (n[0] == '.' && n.size() > 5 && n.substr(n.size() - 5) == ".part") return true;
    return false;
  });
  server->stop();  // kills the listener and the session mid-transfer
  writer.join();
  ASSERT_TRUE(caught) << "the upload never showed its temporary name";
  for (const auto& o : outcomes) ASSERT_EQ(o.status, TP_STATUS_RETRYABLE) << o.message;
  EXPECT_TRUE(visible(remote("upload")).empty());  // only the hidden .part, never a final name
  // The hub retries once the server is back: everything arrives, complete.
  server->start();
  inst.reset();  // the hub's retry, here without the bandwidth limit to keep the test fast
  h.open(nlohmann::json{{"target", {{"sftp", server->sftp(sub + "/upload")}}}}.dump()).swap(inst);
  const auto again = inst->write(batch);
  for (const auto& o : again) ASSERT_EQ(o.status, TP_OK) << o.message;
  const auto files = visible(remote("upload"));
  ASSERT_EQ(files.size(), 2u);
  const auto manifest = nlohmann::json::parse(slurp(remote("upload/" + files[1])));
  EXPECT_EQ(manifest["rows"], 2000);
  EXPECT_EQ(manifest["sha256"], sha256_hex(slurp(remote("upload/" + files[0]))));
}

TEST_F(Sftp, ServerDownIsRetryable) {
  auto inst = h.open(nlohmann::json{{"target", {{"sftp", server->sftp(sub + "/upload")}}}}.dump());
  server->stop();
  const auto outcomes = inst->write({letter(1)});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(outcomes[0].message.find("sftp sftp://127.0.0.1:"), std::string::npos) << outcomes[0].message;
  EXPECT_EQ(inst->check(), TP_STATUS_RETRYABLE);
  server->start();
  EXPECT_EQ(inst->write({letter(1)})[0].status, TP_OK);
}

TEST_F(Sftp, WrongHostKeyIsRefusedAndNothingIsUploaded) {
  TempDir other;
  ASSERT_EQ(run("ssh-keygen -q -t ed25519 -N '' -f " + other.str() + "/k"), 0);
  spit(other.path() / "known_hosts",
       "[127.0.0.1]:" + std::to_string(server->port()) + " " + slurp(other.path() / "k.pub"));
  nlohmann::json sftp = server->sftp(sub + "/upload");
  sftp["known_hosts"] = (other.path() / "known_hosts").string();
  auto inst = h.open(nlohmann::json{{"target", {{"sftp", sftp}}}}.dump());
  const auto outcomes = inst->write({letter(1)});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(outcomes[0].message.find("does not match known_hosts"), std::string::npos) << outcomes[0].message;
  std::string error;
  EXPECT_EQ(inst->check(&error), TP_STATUS_RETRYABLE);
  EXPECT_NE(error.find("does not match known_hosts"), std::string::npos) << error;
  EXPECT_TRUE(names(remote("upload")).empty());
  // An empty known_hosts: the server is unknown, also refused.
  spit(other.path() / "known_hosts", "");
  const auto unknown = inst->write({letter(1)});
  EXPECT_NE(unknown[0].message.find("not in known_hosts"), std::string::npos) << unknown[0].message;
  EXPECT_TRUE(names(remote("upload")).empty());
}

TEST_F(Sftp, ReturnsAreReadAndCommittedFilesMoveToDone) {
  fs::create_directories(remote("returns"));
  spit(remote("returns/ret-1.csv"), "contact_id,reason\n" + contact_id(1) + ",unknown\n" + contact_id(2) + ",moved\n");
  spit(remote("returns/ret-2.csv"), "contact_id,reason\n" + contact_id(3) + ",refused\n");
  spit(remote("returns/a b;evil.csv"), "contact_id,reason\n" + contact_id(4) + ",refused\n");
  spit(remote("returns/x\n..\n..%2f..%2fetc.csv"), "contact_id,reason\n" + contact_id(5) + ",refused\n");
  auto inst = h.open(nlohmann::json{{"returns", {{"sftp", server->sftp(sub + "/returns")}}}}.dump());
  for (int i = 0; i < 10; ++i) {
    const size_t before = h.cursors().size();
    ASSERT_EQ(inst->read(), TP_OK);
    if (h.cursors().size() == before) break;
    if (!h.cursors().back().empty()) {
      ASSERT_EQ(inst->commit(h.cursors().back()), TP_OK);
    }
  }
  const auto recs = h.records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(recs[2].data)["detail"]["reason"], "refused");
  const auto rejects = h.rejects();
  ASSERT_GE(rejects.size(), 1u);
  for (const auto& r : rejects) EXPECT_NE(r.reason.find("unsafe return file name"), std::string::npos) << r.reason;
  EXPECT_EQ(names(remote("returns/done")), (std::vector<std::string>{"ret-1.csv", "ret-2.csv"}));
  EXPECT_TRUE(fs::exists(remote("returns/a b;evil.csv")));  // never touched
  EXPECT_TRUE(fs::exists(remote("returns/x\n..\n..%2f..%2fetc.csv")));
  EXPECT_FALSE(fs::exists(server->dir() / "etc.csv"));
}

TEST_F(Sftp, ReturnsSurviveAServerOutageBeforeCommit) {
  fs::create_directories(remote("returns"));
  spit(remote("returns/r.csv"), "contact_id,reason\n" + contact_id(1) + ",deceased\n");
  auto inst = h.open(nlohmann::json{{"returns", {{"sftp", server->sftp(sub + "/returns")}}}}.dump());
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(h.records().size(), 1u);
  server->stop();
  EXPECT_EQ(inst->read(), TP_STATUS_RETRYABLE);        // listing fails: retried later
  EXPECT_EQ(inst->commit(h.cursors().back()), TP_OK);  // the move fails quietly and is kept
  EXPECT_TRUE(fs::exists(remote("returns/r.csv")));
  server->start();
  ASSERT_EQ(inst->read(), TP_OK);  // retries the move first
  EXPECT_TRUE(fs::exists(remote("returns/done/r.csv")));
  EXPECT_EQ(h.records().size(), 1u);  // not read twice
}

}  // namespace
}  // namespace touchpoint::post::test
