// End-to-end tests: the real libtp_csv.so loaded through the SDK's test harness.
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "csv_fixture.hpp"
#include "record_builder.hpp"

namespace touchpoint::csv {
namespace {

using namespace test;  // NOLINT: the shared fixture
namespace fs = std::filesystem;
using touchpoint::testing::Harness;
using touchpoint::testing::Instance;

TEST_F(CsvPlugin, NegotiatesAsSource) {
  Harness h(TP_CSV_PLUGIN);
  EXPECT_EQ(std::string(h.info().name.data, h.info().name.len), "csv");
  EXPECT_EQ(h.info().capabilities, TP_CAP_SOURCE);
}

TEST_F(CsvPlugin, HappyPathExactRecords) {
  write("a.csv", "id,name,email\n1,Anna,anna@example.com\n2,Bob,\n");
  const FileInfo f = info("a.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  EXPECT_EQ(inst->read(), TP_OK);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","name":"Anna","email":"anna@example.com"})");
  EXPECT_EQ(recs[1].data, R"({"id":"2","name":"Bob"})");  // empty cell omitted
  EXPECT_EQ(recs[0].type, "profile");
  EXPECT_EQ(recs[0].key, "");
  EXPECT_EQ(recs[0].id, deterministic_id("a.csv", 2, row_hash("id,name,email", "1,Anna,anna@example.com")));
  EXPECT_EQ(recs[1].id, deterministic_id("a.csv", 3, row_hash("id,name,email", "2,Bob,")));
  EXPECT_EQ(recs[0].meta, R"({"file":"a.csv","line":2})");
  EXPECT_EQ(recs[0].ts_ms, f.mtime / 1000000);
  for (const auto& r : recs) EXPECT_TRUE(valid_json(r.data)) << r.data;
  ASSERT_EQ(h.cursors().size(), 1u);
  Cursor c = cursor_of(h.cursors()[0]);
  EXPECT_EQ(c.file, "a.csv");
  EXPECT_EQ(c.size, f.size);
  EXPECT_EQ(c.mtime, f.mtime);
  EXPECT_EQ(c.offset, f.size);
  EXPECT_EQ(c.line, 4u);
  EXPECT_TRUE(c.eof);
  EXPECT_TRUE(h.rejects().empty());
  EXPECT_EQ(h.counters()["csv_rows_total"], 2.0);
  // Nothing more to read; the file waits for its commit.
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.cursors().size(), 1u);
  EXPECT_TRUE(fs::exists(inbox_ / "a.csv"));
}

TEST_F(CsvPlugin, ExplicitDelimiters) {
  struct Case {
    std::string delimiter, content, b;
  };
  int n = 0;
  for (const Case& c :
       {Case{";", "a;b\n1;x,y\n", "x,y"}, Case{",", "a,b\n1,x;y\n", "x;y"}, Case{"\\t", "a\tb\n1\tx;y,z\n", "x;y,z"}}) {
    const fs::path in = dir_ / ("case" + std::to_string(++n));
    fs::create_directories(in);
    std::ofstream(in / "d.csv", std::ios::binary) << c.content;
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(R"({"inbox":")" + in.string() + R"(","settle_ms":0,"delimiter":")" + c.delimiter + "\"}");
    drain(*inst, h);
    ASSERT_EQ(h.records().size(), 1u) << c.delimiter;
    EXPECT_EQ(h.records()[0].data, R"({"a":"1","b":")" + c.b + "\"}") << c.delimiter;
  }
}

TEST_F(CsvPlugin, AutoDetectsDelimiterPerFile) {
  write("1.csv", "a;b;c\n1;2,5;3\n");
  write("2.csv", "a,b,c\n1,2;5,3\n");
  write("3.csv", "a\tb\tc\n1\t2,5;x\t3\n");
  write("4.csv", "\"x;y\",b\n1,2\n");  // quoted delimiters do not count
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("delimiter":"auto")"));
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].data, R"({"a":"1","b":"2,5","c":"3"})");
  EXPECT_EQ(recs[1].data, R"({"a":"1","b":"2;5","c":"3"})");
  EXPECT_EQ(recs[2].data, R"({"a":"1","b":"2,5;x","c":"3"})");
  EXPECT_EQ(recs[3].data, R"({"x;y":"1","b":"2"})");
}

TEST_F(CsvPlugin, BomAndCrlf) {
  copy_data("bom_crlf.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"email":"anna@example.com","first_name":"Anna","last_name":"Schmidt"})");
  EXPECT_EQ(recs[1].data, R"({"email":"bob@example.com","first_name":"Bob","last_name":"O'Neil, Jr."})");
  EXPECT_EQ(recs[1].meta, R"({"file":"bom_crlf.csv","line":4})");  // blank line 3 skipped
  EXPECT_TRUE(cursor_of(h.cursors().back()).eof);
}

TEST_F(CsvPlugin, EmbeddedNewlinesAndQuotesKeepLineNumbers) {
  copy_data("embedded_newlines.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","note":"first line\nsecond line","city":"Berlin"})");
  EXPECT_EQ(recs[1].data, R"({"id":"2","note":"he said \"hi\"","city":"Hamburg"})");
  EXPECT_EQ(recs[2].data, R"({"id":"3","note":"a\nb\nc","city":"München"})");
  EXPECT_EQ(recs[3].data, R"({"id":"4","note":"plain","city":"Bonn"})");
  std::vector<std::string> metas;
  for (const auto& r : recs) metas.push_back(r.meta);
  EXPECT_EQ(metas,
            (std::vector<std::string>{
                R"({"file":"embedded_newlines.csv","line":2})", R"({"file":"embedded_newlines.csv","line":4})",
                R"({"file":"embedded_newlines.csv","line":5})", R"({"file":"embedded_newlines.csv","line":8})"}));
  for (const auto& r : recs) EXPECT_TRUE(valid_json(r.data)) << r.data;
}

TEST_F(CsvPlugin, Latin1GermanExportWithMappingAndKey) {
  copy_data("german_latin1.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(
      R"("delimiter":";","encoding":"latin-1","key_column":"E-Mail","type":"contact",)"
      R"("columns":{"E-Mail":"email","Telefon":"phone","Straße":"address.street","PLZ":"address.zip","Ort":"address.city"})"));
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].data,
            R"({"Kundennr":"1001","Name":"Müller","Vorname":"Jürgen","address":{"street":"Hauptstraße 5",)"
            R"("zip":"50667","city":"Köln"},"email":"juergen.mueller@example.de","phone":"0221 123456"})");
  EXPECT_EQ(recs[0].key, "juergen.mueller@example.de");
  EXPECT_EQ(recs[0].type, "contact");
  EXPECT_EQ(recs[1].data,
            R"({"Kundennr":"1002","Name":"Weiß","Vorname":"Änne","address":{"street":"Am Gärtnerplatz 1",)"
            R"("zip":"80469","city":"München"},"email":"aenne@example.de"})");
  EXPECT_EQ(recs[2].data, R"({"Kundennr":"1003","Name":"Schäfer","Vorname":"Ötzi","address":{"street":"Berg; Hütte 3",)"
                          R"("zip":"6020","city":"Innsbruck"},"phone":"+43 512 0"})");
  EXPECT_EQ(recs[2].key, "");
  EXPECT_TRUE(h.rejects().empty());
}

TEST_F(CsvPlugin, InvalidUtf8RowIsRejectedOthersContinue) {
  copy_data("invalid_utf8.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","name":"Anna"})");
  EXPECT_EQ(recs[1].data, R"({"id":"3","name":"Zoë"})");
  auto rejects = h.rejects();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].location, "invalid_utf8.csv:3");
  EXPECT_NE(rejects[0].reason.find("invalid UTF-8"), std::string::npos) << rejects[0].reason;
  EXPECT_NE(rejects[0].reason.find("'name'"), std::string::npos) << rejects[0].reason;
  EXPECT_EQ(rejects[0].raw, "2;M\\xFCller");  // invalid bytes shown as \xNN
  EXPECT_EQ(h.cursors().size(), 1u);          // rejects travel in the same unit
  EXPECT_EQ(h.counters()["csv_rejects_total"], 1.0);
}

TEST_F(CsvPlugin, BrokenRowsAreRejectedWithReasons) {
  copy_data("broken_rows.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","name":"Anna","email":"anna@example.com"})");
  EXPECT_EQ(recs[1].data, R"({"id":"5","name":"Eve","email":"eve@example.com"})");
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 4u);
  EXPECT_EQ(rj[0].location, "broken_rows.csv:3");
  EXPECT_EQ(rj[0].reason, "expected 3 columns, found 2");
  EXPECT_EQ(rj[0].raw, "2,Bob");
  EXPECT_EQ(rj[1].location, "broken_rows.csv:4");
  EXPECT_EQ(rj[1].reason, "expected 3 columns, found 4");
  EXPECT_EQ(rj[2].location, "broken_rows.csv:5");
  EXPECT_NE(rj[2].reason.find("after closing quote"), std::string::npos);
  EXPECT_EQ(rj[2].raw, "4,\"Dora\"x,dora@example.com");
  EXPECT_EQ(rj[3].location, "broken_rows.csv:7");
  EXPECT_EQ(rj[3].reason, "unterminated quoted field");
  EXPECT_EQ(rj[3].raw, "6,\"Frank,frank@example.com");
  Cursor c = cursor_of(h.cursors().back());
  EXPECT_TRUE(c.eof);
  EXPECT_EQ(c.offset, info("broken_rows.csv").size);
}

TEST_F(CsvPlugin, OnlyMappedDottedPathsAndIdColumn) {
  write("m.csv", "Nr;E-Mail;Stadt;Intern\n77;a@x.de;Berlin;secret\n78;;;\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(
      R"("columns":{"E-Mail":"contact.email","Stadt":"contact.address.city"},"only_mapped":true,"id_column":"Nr")"));
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"contact":{"email":"a@x.de","address":{"city":"Berlin"}}})");
  EXPECT_EQ(recs[0].id, "77");
  EXPECT_EQ(recs[1].data, "{}");  // mapped cells empty: an empty object, not dropped silently
  EXPECT_EQ(recs[1].id, "78");
}

TEST_F(CsvPlugin, HeaderlessFilesUseColumnNumbers) {
  write("n.csv", "a@x.de,Anna\nb@x.de,Bob\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("header":false,"columns":{"1":"email"},"key_column":"1")"));
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"email":"a@x.de","2":"Anna"})");
  EXPECT_EQ(recs[0].key, "a@x.de");
  EXPECT_EQ(recs[0].meta, R"({"file":"n.csv","line":1})");
}

TEST_F(CsvPlugin, MissingKeyColumnRejectsTheWholeFile) {
  write("k.csv", "name\nAnna\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("key_column":"E-Mail")"));
  drain(*inst, h);
  EXPECT_TRUE(h.records().empty());
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].location, "k.csv:1");
  EXPECT_NE(h.rejects()[0].reason.find("key_column 'E-Mail'"), std::string::npos);
  ASSERT_EQ(h.cursors().size(), 1u);
  EXPECT_TRUE(cursor_of(h.cursors()[0]).eof);
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "k.csv"));
}

TEST_F(CsvPlugin, DeterministicIdsAcrossRuns) {
  write("ids.csv", rows_file(30));
  std::vector<std::string> first, second;
  for (auto* ids : {&first, &second}) {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config(R"("batch_rows":7)"));
    drain(*inst, h);
    for (const auto& r : h.records()) ids->push_back(r.id);
  }
  ASSERT_EQ(first.size(), 30u);
  EXPECT_EQ(first, second);
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), 30u);
  EXPECT_EQ(first[0], deterministic_id("ids.csv", 2, row_hash("id,name,email", "1,Name 1,user1@example.com")));
}

TEST_F(CsvPlugin, CorrectedReExportWithTheSameNameAndSizeGetsNewIds) {
  // The store applies an id from the same pipeline once: a corrected row must not reuse it.
  write("export.csv", "Kundennummer,Name\nK-1,Anna\nK-2,Bob\n");
  std::vector<touchpoint::testing::EmittedRecord> first, second;
  {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config(R"("key_column":"Kundennummer")"));
    drain(*inst, h);
    commit_all(*inst, h);
    first = h.records();
  }
  write("export.csv", "Kundennummer,Name\nK-1,Anne\nK-2,Bob\n");  // same name, same size
  {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config(R"("key_column":"Kundennummer")"));
    drain(*inst, h);
    second = h.records();
  }
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_NE(first[0].id, second[0].id);    // corrected: a new delivery
  EXPECT_EQ(first[0].key, second[0].key);  // of the same customer
  EXPECT_EQ(first[1].id, second[1].id);    // unchanged row at the same line: the same delivery again
  EXPECT_EQ(first[1].id, deterministic_id("export.csv", 3, row_hash("Kundennummer,Name", "K-2,Bob")));
}

TEST_F(CsvPlugin, DeterministicIdsAreTheSameWhenResumed) {
  std::string content = "id,note\n";
  for (int i = 1; i <= 25; ++i) content += std::to_string(i) + (i % 7 == 0 ? ",\"multi\nline\"\n" : ",n\n");
  write("r.csv", content);
  std::vector<std::string> whole;
  {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config());
    drain(*inst, h);
    for (const auto& r : h.records()) whole.push_back(r.id);
  }
  ASSERT_EQ(whole.size(), 25u);
  std::vector<std::string> pieces;
  std::string checkpoint;
  for (;;) {  // one unit of 4 rows per "run", each resuming from the last checkpoint
    Harness h(TP_CSV_PLUGIN);
    h.set_checkpoint(checkpoint);
    auto inst = h.open(config(R"("batch_rows":4)"));
    EXPECT_EQ(inst->read(), TP_OK);
    if (h.cursors().empty()) break;
    for (const auto& r : h.records()) pieces.push_back(r.id);
    checkpoint = h.cursors().back();
    if (cursor_of(checkpoint).eof) break;
  }
  EXPECT_EQ(pieces, whole);
}

TEST_F(CsvPlugin, BatchingGivesUnitsWithIncreasingCursors) {
  write("big.csv", rows_file(2500));
  const FileInfo f = info("big.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("batch_rows":1000)"));
  EXPECT_EQ(drain(*inst, h), 3u);
  auto cursors = h.cursors();
  ASSERT_EQ(cursors.size(), 3u);
  std::vector<Cursor> c;
  for (const auto& s : cursors) c.push_back(cursor_of(s));
  EXPECT_LT(c[0].offset, c[1].offset);
  EXPECT_LT(c[1].offset, c[2].offset);
  EXPECT_EQ(c[0].line, 1002u);
  EXPECT_EQ(c[1].line, 2002u);
  EXPECT_EQ(c[2].line, 2502u);
  EXPECT_FALSE(c[0].eof);
  EXPECT_FALSE(c[1].eof);
  EXPECT_TRUE(c[2].eof);
  EXPECT_EQ(c[2].offset, f.size);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2500u);
  EXPECT_EQ(recs[999].data, R"({"id":"1000","name":"Name 1000","email":"user1000@example.com"})");
  EXPECT_EQ(recs[1000].data, R"({"id":"1001","name":"Name 1001","email":"user1001@example.com"})");
  // The first cursor's offset is exactly where row 1001 starts.
  const std::string content = slurp(inbox_ / "big.csv");
  EXPECT_EQ(content.substr(c[0].offset, 5), "1001,");
}

TEST_F(CsvPlugin, ExactBatchBoundaryMarksEofOnLastUnit) {
  write("two.csv", rows_file(2000) + "\n\n");  // trailing blank lines
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("batch_rows":1000)"));
  EXPECT_EQ(drain(*inst, h), 2u);
  EXPECT_TRUE(cursor_of(h.cursors()[1]).eof);
  EXPECT_EQ(cursor_of(h.cursors()[1]).offset, info("two.csv").size);
}

TEST_F(CsvPlugin, CommitOfEofCursorMovesFileToDone) {
  write("a.csv", rows_file(3));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("batch_rows":2)"));
  EXPECT_EQ(drain(*inst, h), 2u);
  auto cursors = h.cursors();
  EXPECT_EQ(inst->commit(cursors[0]), TP_OK);  // not eof: nothing moves
  EXPECT_TRUE(fs::exists(inbox_ / "a.csv"));
  EXPECT_EQ(inst->commit(cursors[1]), TP_OK);
  EXPECT_FALSE(fs::exists(inbox_ / "a.csv"));
  EXPECT_EQ(slurp(inbox_ / "done" / "a.csv"), rows_file(3));
  EXPECT_EQ(h.counters()["csv_files_total"], 1.0);

  // A second a.csv lands next to the first one with a timestamp suffix.
  write("a.csv", rows_file(1));
  drain(*inst, h);
  EXPECT_EQ(inst->commit(h.cursors().back()), TP_OK);
  EXPECT_FALSE(fs::exists(inbox_ / "a.csv"));
  std::vector<std::string> done;
  for (const auto& e : fs::directory_iterator(inbox_ / "done")) done.push_back(e.path().filename().string());
  ASSERT_EQ(done.size(), 2u);
  if (done[0] != "a.csv") std::swap(done[0], done[1]);
  EXPECT_EQ(done[0], "a.csv");
  EXPECT_EQ(slurp(inbox_ / "done" / "a.csv"), rows_file(3));  // the first one is untouched
  // a.<YYYYMMDD>T<HHMMSS>Z.csv
  ASSERT_EQ(done[1].size(), std::string("a.20240102T030405Z.csv").size()) << done[1];
  EXPECT_EQ(done[1].substr(0, 2), "a.");
  EXPECT_EQ(done[1][10], 'T');
  EXPECT_EQ(done[1].substr(17), "Z.csv");
  EXPECT_EQ(slurp(inbox_ / "done" / done[1]), rows_file(1));
  EXPECT_EQ(h.counters()["csv_files_total"], 2.0);
}

TEST_F(CsvPlugin, CustomDoneDir) {
  write("a.csv", rows_file(1));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("done_dir":")" + (dir_ / "archive").string() + "\""));
  drain(*inst, h);
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(dir_ / "archive" / "a.csv"));
}

TEST_F(CsvPlugin, FilesAreProcessedOneAtATimeInNameOrder) {
  write("b.csv", "id\nb1\n");
  write("a.csv", "id\na1\na2\n");
  write("c.csv", "id\nc1\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  EXPECT_EQ(drain(*inst, h), 3u);  // no commit needed to move on to the next file
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].data, R"({"id":"a1"})");
  EXPECT_EQ(recs[2].data, R"({"id":"b1"})");
  EXPECT_EQ(recs[3].data, R"({"id":"c1"})");
  std::vector<std::string> files;
  for (const auto& c : h.cursors()) files.push_back(cursor_of(c).file);
  EXPECT_EQ(files, (std::vector<std::string>{"a.csv", "b.csv", "c.csv"}));
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "b.csv"));
  EXPECT_FALSE(fs::exists(inbox_ / "a.csv"));
  EXPECT_FALSE(fs::exists(inbox_ / "c.csv"));
}

TEST_F(CsvPlugin, RestartFromMidFileCheckpointResumesExactly) {
  // Row 1001 starts a multi-line quoted field: the resume point must still be exact.
  std::string content = "id,note\n";
  for (int i = 1; i <= 2500; ++i)
    content += std::to_string(i) + (i % 500 == 1 ? ",\"two\nlines\"\n" : ",n" + std::to_string(i) + "\n");
  write("r.csv", content);
  std::string checkpoint;
  std::vector<std::string> first_ids;
  {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config(R"("batch_rows":1000)"));
    EXPECT_EQ(inst->read(), TP_OK);  // one unit, then "crash"
    ASSERT_EQ(h.cursors().size(), 1u);
    checkpoint = h.cursors()[0];
    for (const auto& r : h.records()) first_ids.push_back(r.id);
  }
  Harness h2(TP_CSV_PLUGIN);
  h2.set_checkpoint(checkpoint);
  auto inst = h2.open(config(R"("batch_rows":1000)"));
  drain(*inst, h2);
  auto recs = h2.records();
  ASSERT_EQ(recs.size(), 1500u);
  EXPECT_EQ(recs[0].data, R"({"id":"1001","note":"two\nlines"})");
  EXPECT_EQ(recs[1].data, R"({"id":"1002","note":"n1002"})");
  EXPECT_EQ(recs.back().data, R"({"id":"2500","note":"n2500"})");
  // Line of row 1001 = 1 (header) + 1001 + 2 extra lines of the 2-line rows 1 and 501.
  EXPECT_EQ(recs[0].meta, R"({"file":"r.csv","line":1004})");
  EXPECT_EQ(recs[1].meta, R"({"file":"r.csv","line":1006})");
  std::set<std::string> ids(first_ids.begin(), first_ids.end());
  for (const auto& r : recs) EXPECT_TRUE(ids.insert(r.id).second) << "repeated " << r.id;
  EXPECT_EQ(ids.size(), 2500u);
  EXPECT_TRUE(h2.logs().size() > 0);
}

TEST_F(CsvPlugin, RestartWithEofCheckpointMovesTheFile) {
  write("a.csv", rows_file(5));
  std::string checkpoint;
  {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config());
    drain(*inst, h);
    checkpoint = h.cursors().back();  // durable, but the commit never happened
  }
  ASSERT_TRUE(fs::exists(inbox_ / "a.csv"));
  Harness h2(TP_CSV_PLUGIN);
  h2.set_checkpoint(checkpoint);
  auto inst = h2.open(config());
  EXPECT_FALSE(fs::exists(inbox_ / "a.csv"));
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "a.csv"));
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h2.records().empty());
}

TEST_F(CsvPlugin, RestartAfterFileChangedReadsFromStart) {
  write("a.csv", rows_file(10));
  std::string checkpoint;
  {
    Harness h(TP_CSV_PLUGIN);
    auto inst = h.open(config(R"("batch_rows":4)"));
    EXPECT_EQ(inst->read(), TP_OK);
    checkpoint = h.cursors()[0];
  }
  write("a.csv", rows_file(12));  // replaced with a different file
  Harness h2(TP_CSV_PLUGIN);
  h2.set_checkpoint(checkpoint);
  auto inst = h2.open(config(R"("batch_rows":4)"));
  drain(*inst, h2);
  ASSERT_EQ(h2.records().size(), 12u);
  EXPECT_EQ(h2.records()[0].data, R"({"id":"1","name":"Name 1","email":"user1@example.com"})");
  bool warned = false;
  for (const auto& l : h2.logs()) warned |= l.level == TP_LOG_WARN && l.message.find("changed") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(CsvPlugin, BackpressureTakesNothingAndRetries) {
  write("bp.csv", rows_file(2500));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("batch_rows":1000)"));
  EXPECT_EQ(inst->read(), TP_OK);  // first unit accepted
  h.refuse_emits(TP_STATUS_BACKPRESSURE);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.records().size(), 1000u);
  EXPECT_EQ(h.cursors().size(), 1u);
  h.refuse_emits(TP_STATUS_SHUTTING_DOWN);
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.records().size(), 1000u);
  h.refuse_emits(TP_OK);
  EXPECT_EQ(drain(*inst, h), 2u);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2500u);
  std::set<std::string> ids;
  for (const auto& r : recs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), 2500u);
  EXPECT_EQ(recs[1000].data, R"({"id":"1001","name":"Name 1001","email":"user1001@example.com"})");
  EXPECT_EQ(h.counters()["csv_rows_total"], 2500.0);
}

TEST_F(CsvPlugin, BackpressureOnFirstEmitOfAFile) {
  write("a.csv", rows_file(2));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  h.refuse_emits(TP_STATUS_BACKPRESSURE);
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h.cursors().empty());
  h.refuse_emits(TP_OK);
  EXPECT_EQ(drain(*inst, h), 1u);
  EXPECT_EQ(h.records().size(), 2u);
}

TEST_F(CsvPlugin, SettleWindowHoldsBackFreshFiles) {
  write("fresh.csv", rows_file(2));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(R"({"inbox":")" + inbox_.string() + R"(","settle_ms":1000})");
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h.cursors().empty());
  // Still growing: the window starts again.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  write("fresh.csv", rows_file(3));
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h.cursors().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h.cursors().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.records().size(), 3u);
}

TEST_F(CsvPlugin, IgnoresHiddenPartialAndNonMatchingFiles) {
  write(".hidden.csv", rows_file(1));
  write("upload.csv.part", rows_file(1));
  write("upload.csv.tmp", rows_file(1));
  write("x.tmp", rows_file(1));
  write("notes.txt", rows_file(1));
  fs::create_directories(inbox_ / "dir.csv");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  EXPECT_EQ(drain(*inst, h), 0u);
  write("UPPER.CSV", rows_file(1));  // the pattern matches case-insensitively
  EXPECT_EQ(drain(*inst, h), 1u);
  EXPECT_EQ(cursor_of(h.cursors()[0]).file, "UPPER.CSV");
}

TEST_F(CsvPlugin, CustomPattern) {
  write("a.csv", rows_file(1));
  write("b.tsv", "x\ty\n1\t2\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("pattern":"*.tsv")"));
  EXPECT_EQ(drain(*inst, h), 1u);
  EXPECT_EQ(h.records()[0].data, R"({"x":"1","y":"2"})");
}

TEST_F(CsvPlugin, EmptyAndHeaderOnlyFilesEmitEofUnitsAndMove) {
  write("1_empty.csv", "");
  write("2_header.csv", "a,b\r\n");
  write("3_blank.csv", "\n\n\r\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  EXPECT_EQ(drain(*inst, h), 3u);
  EXPECT_TRUE(h.records().empty());
  EXPECT_TRUE(h.rejects().empty());
  for (const auto& c : h.cursors()) EXPECT_TRUE(cursor_of(c).eof) << c;
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "1_empty.csv"));
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "2_header.csv"));
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "3_blank.csv"));
}

TEST_F(CsvPlugin, AllEmptyRowsAreSkipped) {
  write("s.csv", "a;b;c\n1;2;3\n;;\n  ;  ;\n4;5;6\n;;;;\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  ASSERT_EQ(h.records().size(), 2u);
  EXPECT_EQ(h.records()[1].meta, R"({"file":"s.csv","line":5})");
  EXPECT_TRUE(h.rejects().empty());
}

TEST_F(CsvPlugin, HugeField) {
  const std::string big(1 << 20, 'x');
  write("huge.csv", "id,blob,after\n1,\"" + big + "\",tail\n2,small,tail\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(recs[0].data).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["blob"]).size(), big.size());
  EXPECT_EQ(std::string_view(doc["after"]), "tail");
  EXPECT_EQ(recs[1].meta, R"({"file":"huge.csv","line":3})");
}

TEST_F(CsvPlugin, FiftyThousandRows) {
  write("50k.csv", rows_file(50000));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  EXPECT_EQ(drain(*inst, h), 50u);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 50000u);
  std::set<std::string> ids;
  for (const auto& r : recs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), 50000u);
  EXPECT_EQ(recs.back().data, R"({"id":"50000","name":"Name 50000","email":"user50000@example.com"})");
  EXPECT_EQ(recs.back().meta, R"({"file":"50k.csv","line":50001})");
  EXPECT_TRUE(cursor_of(h.cursors().back()).eof);
  EXPECT_EQ(h.counters()["csv_rows_total"], 50000.0);
}

TEST_F(CsvPlugin, DiscoverListsHeaderOfNextFile) {
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("encoding":"latin-1")"));
  std::string json;
  EXPECT_EQ(inst->discover(&json), TP_OK);
  EXPECT_EQ(json, R"({"streams":[]})");
  copy_data("german_latin1.csv");
  json.clear();
  EXPECT_EQ(inst->discover(&json), TP_OK);
  EXPECT_EQ(
      json,
      R"({"streams":[{"name":"german_latin1.csv","fields":["Kundennr","Name","Vorname","Straße","PLZ","Ort",)"
      R"("E-Mail","Telefon"],"columns":["Kundennr","Name","Vorname","Straße","PLZ","Ort","E-Mail","Telefon"]}]})");
  EXPECT_TRUE(valid_json(json));
}

TEST_F(CsvPlugin, DiscoverReportsFieldsAfterTheColumnMapping) {
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("encoding":"latin-1","only_mapped":true,)"
                            R"("columns":{"Kundennr":"customer_id","PLZ":"address.zip","E-Mail":"email"})"));
  copy_data("german_latin1.csv");
  std::string json;
  EXPECT_EQ(inst->discover(&json), TP_OK);
  EXPECT_EQ(json, R"({"streams":[{"name":"german_latin1.csv","fields":["customer_id","address.zip","email"],)"
                  R"("columns":["Kundennr","Name","Vorname","Straße","PLZ","Ort","E-Mail","Telefon"]}]})");
}

TEST_F(CsvPlugin, ConfigErrorsAreReported) {
  Harness h(TP_CSV_PLUGIN);
  std::string error;
  EXPECT_EQ(h.validate(R"({"inbox":"x","bogus":1})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'bogus'"), std::string::npos) << error;
  EXPECT_EQ(h.validate(R"({"inbox":"x","encoding":"no-such-charset"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_EQ(h.validate(config(), &error), TP_OK);
  EXPECT_FALSE(fs::exists(dir_ / "x"));  // validate has no side effects

  // open() refuses too, through the vtable with an empty host table here. (Harness::open
  // throws for a failed open: see HarnessOpen in harness_test.cpp.)
  tp_host_api api{};
  api.size = sizeof(api);
  const std::string bad = config(R"("delimitr":";")");
  tp_instance* out = nullptr;
  char buf[512];
  tp_error err{sizeof(err), buf, sizeof(buf), 0};
  EXPECT_EQ(h.info().vtable->open(&api, nullptr, tp_str{bad.data(), bad.size()}, &out, &err), TP_STATUS_INVALID_CONFIG);
  EXPECT_EQ(out, nullptr);
  EXPECT_NE(std::string(buf, err.len).find("'delimitr'"), std::string::npos) << std::string(buf, err.len);
}

TEST_F(CsvPlugin, OpenCreatesInboxAndCheckPasses) {
  Harness h(TP_CSV_PLUGIN);
  const fs::path deep = dir_ / "new" / "inbox";
  auto inst = h.open(R"({"inbox":")" + deep.string() + R"("})");
  EXPECT_TRUE(fs::is_directory(deep));
  EXPECT_TRUE(fs::is_directory(deep / "done"));
  EXPECT_EQ(inst->check(), TP_OK);
}

}  // namespace
}  // namespace touchpoint::csv
