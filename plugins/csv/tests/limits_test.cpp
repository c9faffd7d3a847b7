// The host's limits (abi.h TP_MAX_*) through the real plugin: every unit the plugin emits is
// one the harness (and so the hub) accepts; what cannot be a record becomes a reject with
// file:line; a unit the hub refuses anyway becomes dead letters instead of looping.
#include <string>
#include <vector>

#include "csv_fixture.hpp"

namespace touchpoint::csv {
namespace {

using namespace test;  // NOLINT: the shared fixture
using touchpoint::testing::Harness;

TEST_F(CsvPlugin, RowBetweenTheRecordLimitAndTheOldMaxRowBytesIsARejectNotALoop) {
  // 20 MiB: over the host's 16 MiB record limit, under the old 64 MiB max_row_bytes default.
  const std::string big(20u << 20, 'x');
  write("big.csv", "id,blob\n1,small\n2," + big + "\n3,after\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  EXPECT_LE(drain(*inst, h), 2u);
  EXPECT_TRUE(h.refusals().empty()) << h.refusals()[0].message;
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","blob":"small"})");
  EXPECT_EQ(recs[1].data, R"({"id":"3","blob":"after"})");
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_EQ(rj[0].location, "big.csv:3");
  EXPECT_NE(rj[0].reason.find("max_row_bytes (8388608 bytes)"), std::string::npos) << rj[0].reason;
  EXPECT_LE(rj[0].raw.size(), size_t{64} << 10);
  EXPECT_EQ(rj[0].raw.substr(0, 4), "2,xx");
  EXPECT_TRUE(cursor_of(h.cursors().back()).eof);
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "big.csv"));
}

TEST_F(CsvPlugin, MaxRowBytesOverItsBoundIsAConfigError) {
  Harness h(TP_CSV_PLUGIN);
  std::string error;
  EXPECT_EQ(h.validate(config(R"("max_row_bytes":67108864)"), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("max_row_bytes"), std::string::npos) << error;
  EXPECT_NE(error.find("8388608"), std::string::npos) << error;
  EXPECT_EQ(h.validate(config(R"("max_row_bytes":8388608)"), &error), TP_OK) << error;
  EXPECT_EQ(h.validate(config(R"("type":"Kontakt")"), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("type"), std::string::npos) << error;
}

TEST_F(CsvPlugin, RecordOverTheLimitAfterJsonEscapingIsARejectNotALoop) {
  // 3 MiB of control bytes are a valid UTF-8 row within max_row_bytes, but 18 MiB as JSON.
  const std::string controls(3u << 20, '\x01');
  write("esc.csv", "id,blob\n1," + controls + "\n2,ok\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  EXPECT_TRUE(h.refusals().empty()) << h.refusals()[0].message;
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].data, R"({"id":"2","blob":"ok"})");
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].location, "esc.csv:2");
  EXPECT_NE(h.rejects()[0].reason.find("TP_MAX_RECORD_BYTES"), std::string::npos) << h.rejects()[0].reason;
  EXPECT_NE(h.rejects()[0].reason.find("raw cut"), std::string::npos) << h.rejects()[0].reason;
  // Half of it fits: 1.5 MiB of control bytes are 9 MiB of JSON.
  write("esc2.csv", "id,blob\n1," + std::string(3u << 19, '\x01') + "\n");
  drain(*inst, h);
  ASSERT_EQ(h.records().size(), 2u);
  EXPECT_EQ(h.records()[1].data.size(), 6 * (size_t{3} << 19) + std::string(R"({"id":"1","blob":""})").size());
}

TEST_F(CsvPlugin, KeyAndIdCellsOverTheHubLimitsAreRejects) {
  const std::string key_ok(TP_MAX_KEY_BYTES, 'k'), key_long(TP_MAX_KEY_BYTES + 1, 'k');
  const std::string id_ok(TP_MAX_ID_BYTES, 'i'), id_long(TP_MAX_ID_BYTES + 1, 'i');
  write("k.csv", "Nr;Kundennummer;Name\n" + id_ok + ";" + key_ok + ";Anna\n" + id_ok + "2;" + key_long.substr(1) +
                     ";Bob\n" + id_long + ";K-1;Carl\n;" + key_long + ";Dora\nx;K-2;Eve\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("key_column":"Kundennummer","id_column":"Nr")"));
  drain(*inst, h);
  EXPECT_TRUE(h.refusals().empty()) << h.refusals()[0].message;
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].id, id_ok);
  EXPECT_EQ(recs[0].key, key_ok);
  EXPECT_EQ(recs[1].key, "K-2");
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 3u);
  EXPECT_EQ(rj[0].location, "k.csv:3");  // id 257 bytes
  EXPECT_NE(rj[0].reason.find("'Nr' (id_column) has 257 bytes"), std::string::npos) << rj[0].reason;
  EXPECT_EQ(rj[1].location, "k.csv:4");
  EXPECT_NE(rj[1].reason.find("(id_column)"), std::string::npos) << rj[1].reason;
  EXPECT_EQ(rj[2].location, "k.csv:5");  // key 1025 bytes (the empty id would be deterministic)
  EXPECT_NE(rj[2].reason.find("'Kundennummer' (key_column) has 1025 bytes"), std::string::npos) << rj[2].reason;
}

TEST_F(CsvPlugin, UnitsCountWhatTheHubCounts) {
  // Tiny rejects with a long file name: the location and the per-reject overhead dominate.
  // Counting only raw + reason (as before) put all 200,000 in one unit of ~68 MB.
  const std::string name = std::string(240, 'n') + ".csv";
  std::string content = "a,b\n";
  for (int i = 0; i < 200000; ++i) content += "x\n";
  write(name, content);
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("batch_rows":1000000)"));
  EXPECT_GE(drain(*inst, h), 4u);
  EXPECT_TRUE(h.refusals().empty()) << h.refusals()[0].message;
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 200000u);
  EXPECT_EQ(rj.back().location, name + ":200001");
  EXPECT_TRUE(cursor_of(h.cursors().back()).eof);
}

TEST_F(CsvPlugin, UnitRefusedAsPermanentBecomesDeadLettersAndTheFileGoesOn) {
  write("a.csv", "id,name\n1,Anna\n2\n3,Carl\n");
  write("b.csv", "id,name\n4,Dora\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  h.refuse_next_emits(1, TP_STATUS_PERMANENT, "record 1: simulated refusal");
  EXPECT_EQ(inst->read(), TP_OK);  // refused, then emitted as rejects in the same call
  ASSERT_EQ(h.refusals().size(), 1u);
  EXPECT_TRUE(h.records().empty());
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 3u);  // the row that was a reject already, then the two records
  EXPECT_EQ(rj[0].location, "a.csv:3");
  EXPECT_EQ(rj[0].reason, "expected 2 columns, found 1");
  EXPECT_EQ(rj[1].location, "a.csv:2");
  EXPECT_EQ(rj[1].raw, R"({"id":"1","name":"Anna"})");
  EXPECT_NE(rj[1].reason.find("simulated refusal"), std::string::npos) << rj[1].reason;
  EXPECT_EQ(rj[2].location, "a.csv:4");
  EXPECT_EQ(rj[2].raw, R"({"id":"3","name":"Carl"})");
  ASSERT_EQ(h.cursors().size(), 1u);
  EXPECT_TRUE(cursor_of(h.cursors()[0]).eof);
  EXPECT_EQ(h.counters()["csv_refused_units_total"], 1.0);
  // The next file is read as usual, and the refused one is finished.
  drain(*inst, h);
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].data, R"({"id":"4","name":"Dora"})");
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "a.csv"));
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "b.csv"));
}

TEST_F(CsvPlugin, RefusedDeadLettersAreKeptAndRetriedNotLost) {
  write("a.csv", "id,name\n1,Anna\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  h.refuse_next_emits(2, TP_STATUS_PERMANENT, "simulated");
  std::string error;
  EXPECT_EQ(inst->read(&error), TP_STATUS_PERMANENT);  // the hub refused its dead letters too
  EXPECT_NE(error.find("simulated"), std::string::npos) << error;
  EXPECT_TRUE(h.cursors().empty());
  EXPECT_EQ(inst->read(), TP_OK);  // the host retries read() after its poll interval
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].raw, R"({"id":"1","name":"Anna"})");
  EXPECT_TRUE(cursor_of(h.cursors().back()).eof);
  EXPECT_EQ(drain(*inst, h), 0u);
}

TEST_F(CsvPlugin, RefusedUnitsDeadLettersAreSplitWithinTheUnitLimit) {
  // 40,000 small records turn into 40,000 rejects that each carry the host's message (cut
  // to 512 bytes by the SDK's error buffer): more than one unit holds. Only the last part
  // moves the cursor.
  write("many.csv", rows_file(40000));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("batch_rows":40000)"));
  h.refuse_next_emits(1, TP_STATUS_PERMANENT, std::string(2000, 'm'));
  const size_t units = drain(*inst, h);
  EXPECT_GE(units, 2u);
  EXPECT_EQ(h.refusals().size(), 1u);
  EXPECT_TRUE(h.records().empty());
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 40000u);
  EXPECT_EQ(rj.back().location, "many.csv:40001");
  EXPECT_NE(rj.back().reason.find(std::string(500, 'm')), std::string::npos);  // the host's message
  EXPECT_LT(rj.back().reason.size(), size_t{1} << 10);
  auto cursors = h.cursors();
  for (size_t i = 0; i + 1 < cursors.size(); ++i) EXPECT_EQ(cursors[i], "") << i;
  EXPECT_TRUE(cursor_of(cursors.back()).eof);
}

}  // namespace
}  // namespace touchpoint::csv
