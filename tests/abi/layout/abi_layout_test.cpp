// Compares the layout of the frozen ABI 1.0 header with the current SDK
// header, using the tables frozen_layout.c and current_layout.cpp measured
// (each TU saw only one of the two headers).
#include "abi_layout.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

namespace {

const tp_abi_header_facts& frozen() { return tp_abi_frozen_facts; }
const tp_abi_header_facts& current() { return tp_abi_current_facts; }

std::string label(const tp_abi_layout_entry& e) {
  return *e.member ? std::string(e.type) + "." + e.member : std::string(e.type);
}

std::map<std::pair<std::string, std::string>, const tp_abi_layout_entry*> index(const tp_abi_header_facts& f) {
  std::map<std::pair<std::string, std::string>, const tp_abi_layout_entry*> out;
  for (size_t i = 0; i < f.layout_count; ++i) out[{f.layout[i].type, f.layout[i].member}] = &f.layout[i];
  return out;
}

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

TEST(Layout, FrozenHeaderIsVersion1_0) {
  EXPECT_EQ(frozen().version_major, 1u);
  EXPECT_EQ(frozen().version_minor, 0u);
  EXPECT_STREQ(frozen().entry_symbol, "tp_plugin_negotiate_v1");
  EXPECT_GE(frozen().layout_count, 11u + 60u);  // 11 structs, their members
}

TEST(Layout, FrozenMatchesTheLp64Numbers) {
#if defined(__x86_64__) && defined(__LP64__)
  for (size_t i = 0; i < frozen().layout_count; ++i) {
    const tp_abi_layout_entry& e = frozen().layout[i];
    size_t measured = *e.member ? e.offset : e.size;
    EXPECT_EQ(measured, e.expected) << label(e);
  }
#else
  GTEST_SKIP() << "the recorded numbers are for x86-64 (LP64)";
#endif
}

// The member list in v1_0_layout_lp64.inc names every member: in each struct
// the members follow each other with only alignment padding in between and
// the last one ends where the struct ends. A member missing from the list
// leaves a gap this test reports.
TEST(Layout, ListCoversEveryFrozenMember) {
  const tp_abi_header_facts& f = frozen();
  size_t i = 0;
  int structs = 0;
  while (i < f.layout_count) {
    const tp_abi_layout_entry& s = f.layout[i];
    ASSERT_STREQ(s.member, "") << "list must start each struct with TP_ABI_STRUCT, got " << label(s);
    ++structs;
    size_t end = 0;
    size_t j = i + 1;
    for (; j < f.layout_count && *f.layout[j].member; ++j) {
      const tp_abi_layout_entry& m = f.layout[j];
      ASSERT_STREQ(m.type, s.type);
      EXPECT_EQ(m.offset, align_up(end, m.align)) << label(m) << " does not follow the previous member: a member "
                                                  << "between them is missing from v1_0_layout_lp64.inc";
      end = m.offset + m.size;
    }
    EXPECT_GT(j, i + 1) << s.type << " has no members in the list";
    EXPECT_EQ(align_up(end, s.align), s.size) << s.type << ": members after the last listed one are missing";
    i = j;
  }
  EXPECT_EQ(structs, 11);
}

TEST(Layout, CurrentHeaderKeepsEveryV1_0Member) {
  auto now = index(current());
  ASSERT_EQ(current().layout_count, frozen().layout_count);
  for (size_t i = 0; i < frozen().layout_count; ++i) {
    const tp_abi_layout_entry& old = frozen().layout[i];
    auto it = now.find({old.type, old.member});
    ASSERT_NE(it, now.end()) << label(old);
    const tp_abi_layout_entry& cur = *it->second;
    if (*old.member) {
      EXPECT_EQ(cur.offset, old.offset) << label(old) << " moved";
      EXPECT_EQ(cur.size, old.size) << label(old) << " changed size";
    } else {
      EXPECT_GE(cur.size, old.size) << label(old) << " shrank";
    }
    EXPECT_EQ(cur.align, old.align) << label(old) << " changed alignment";
  }
}

// Appending members is how ABI 1.x grows, and it must come with a minor
// version bump so plugins and host can tell (TP_HAS_FIELD is size-based, but
// negotiation and docs are version-based).
TEST(Layout, GrowthComesWithAMinorVersionBump) {
  EXPECT_EQ(current().version_major, 1u) << "a major bump needs a new entry symbol and a new frozen header";
  auto now = index(current());
  for (size_t i = 0; i < frozen().layout_count; ++i) {
    const tp_abi_layout_entry& old = frozen().layout[i];
    if (*old.member) continue;
    if (now.at({old.type, ""})->size > old.size) {
      EXPECT_GT(current().version_minor, 0u) << old.type << " grew but TP_ABI_VERSION_MINOR is still 0";
    }
  }
}

// tp_record and tp_reject cross the boundary as arrays (tp_batch.records,
// tp_emit.records, tp_emit.rejects) indexed with the reader's sizeof, and
// tp_str is embedded by value everywhere without a size member. Growing any
// of them would make a 1.0 plugin and a newer host disagree on where element
// i starts, so unlike the other structs they are frozen for all of ABI 1.x.
TEST(Layout, StructsUsedInArraysOrByValueNeverGrow) {
  auto now = index(current());
  auto then = index(frozen());
  for (const char* type : {"tp_record", "tp_reject", "tp_str"}) {
    EXPECT_EQ(now.at({type, ""})->size, then.at({type, ""})->size)
        << type << " grew: v1.0 plugins index arrays of it (or embed it) with the 1.0 size";
  }
}

TEST(Layout, ConstantsKeepTheirValues) {
  ASSERT_EQ(current().constant_count, frozen().constant_count);
  for (size_t i = 0; i < frozen().constant_count; ++i) {
    EXPECT_STREQ(current().constants[i].name, frozen().constants[i].name);
    EXPECT_EQ(current().constants[i].value, frozen().constants[i].value) << frozen().constants[i].name;
  }
  EXPECT_STREQ(current().entry_symbol, frozen().entry_symbol);
}

}  // namespace
