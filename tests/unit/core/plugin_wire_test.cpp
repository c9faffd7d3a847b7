// The framing between the hub and a plugin process (plugin/isolation/wire):
// what a hostile or broken peer can send must end in an error, never in an
// allocation the length field asked for or a read past the payload.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "plugin/isolation/wire.hpp"

namespace {
namespace iso = touchpoint::core::isolation;

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd), 0); }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_writer() {
    ::close(fd[0]);
    fd[0] = -1;
  }
};

TEST(PluginWire, FieldsRoundTripIncludingEmptyAndBinaryStrings) {
  const std::string binary("a\0b\xff", 4);
  const std::string payload =
      iso::Writer().u8(7).u32(0xdeadbeef).u64(1ull << 60).i32(-5).i64(-1).f64(2.5).str("").str(binary).take();
  iso::Reader in(payload);
  EXPECT_EQ(in.u8(), 7);
  EXPECT_EQ(in.u32(), 0xdeadbeefu);
  EXPECT_EQ(in.u64(), 1ull << 60);
  EXPECT_EQ(in.i32(), -5);
  EXPECT_EQ(in.i64(), -1);
  EXPECT_EQ(in.f64(), 2.5);
  EXPECT_EQ(in.str(), "");
  EXPECT_EQ(in.str(), binary);
  EXPECT_TRUE(in.done());
}

TEST(PluginWire, AStringLongerThanItsPayloadIsAnErrorNotARead) {
  std::string payload = iso::Writer().u32(1'000'000).take() + "short";
  iso::Reader in(payload);
  EXPECT_THROW(in.str(), iso::WireError);
  iso::Reader empty("");
  EXPECT_THROW(empty.u64(), iso::WireError);
}

TEST(PluginWire, AReplySplitsIntoStatusErrorAndResultAndATruncatedOneIsAnError) {
  const std::string payload = iso::Writer().i32(2).str("bad config").take() + "rest";
  const iso::ReplyView r = iso::parse_reply(payload);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.error, "bad config");
  EXPECT_EQ(r.rest, "rest");
  EXPECT_THROW(iso::parse_reply(payload.substr(0, 6)), iso::WireError);
}

TEST(PluginWire, FramesCrossASocketWholeAndInOrder) {
  SocketPair sp;
  const std::string big(3 * 1024 * 1024, 'x');  // over the one-send fast path
  std::thread writer([&] {
    EXPECT_TRUE(iso::send_frame(sp.fd[0], iso::Kind::emit, 42, big));
    EXPECT_TRUE(iso::send_frame(sp.fd[0], iso::Kind::log, 0, "tail"));
  });
  auto a = iso::recv_frame(sp.fd[1]);
  auto b = iso::recv_frame(sp.fd[1]);
  writer.join();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->kind, iso::Kind::emit);
  EXPECT_EQ(a->id, 42u);
  EXPECT_EQ(a->payload.size(), big.size());
  EXPECT_EQ(a->payload, big);
  EXPECT_EQ(b->kind, iso::Kind::log);
  EXPECT_EQ(b->payload, "tail");
}

TEST(PluginWire, AHugeLengthFieldIsRefusedBeforeAnythingIsAllocated) {
  SocketPair sp;
  const unsigned char head[4] = {0xff, 0xff, 0xff, 0xff};  // 4 GiB
  ASSERT_EQ(::write(sp.fd[0], head, 4), 4);
  EXPECT_THROW(iso::recv_frame(sp.fd[1]), iso::WireError);
}

TEST(PluginWire, ATruncatedFrameIsTheEndOfTheConnection) {
  SocketPair sp;
  const std::string full = iso::Writer().u32(100).take();  // claims 100 bytes
  ASSERT_EQ(::write(sp.fd[0], full.data(), full.size()), 4);
  ASSERT_EQ(::write(sp.fd[0], "abcdefghi", 9), 9);
  sp.close_writer();
  EXPECT_FALSE(iso::recv_frame(sp.fd[1]).has_value());
}

TEST(PluginWire, SendingToAPeerThatLeftFailsWithoutSigpipe) {
  SocketPair sp;
  ::close(sp.fd[1]);
  sp.fd[1] = -1;
  EXPECT_FALSE(iso::send_frame(sp.fd[0], iso::Kind::reply, 1, "x"));
}

}  // namespace
