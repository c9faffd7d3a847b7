#include "test_support.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

#include "gmime_init.hpp"

namespace tp_email::test {

namespace fs = std::filesystem;

std::string random_contact_id() {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard<std::mutex> lk(mu);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "c-";
  for (int i = 0; i < 24; ++i) id.push_back(kHex[rng() % 16]);
  return id;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/tp-email-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::string run(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error("'" + command + "' failed (" + std::to_string(rc) + "): " + out);
  return out;
}

Postfix* g_postfix = nullptr;

// Stops a postfix this binary started, after all tests (passed or failed).
class PostfixEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Postfix::stop_owned(); }
};

}  // namespace

Postfix& Postfix::shared() {
  if (g_postfix != nullptr) return *g_postfix;
  auto* p = new Postfix();
  if (const char* d = std::getenv("TP_EMAIL_POSTFIX_DIR"); d != nullptr && fs::exists(fs::path(d) / "port")) {
    p->dir_ = d;
  } else {
    char tmpl[] = "/tmp/tp-email-postfix-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    p->dir_ = tmpl;
    p->owned_ = true;
    g_postfix = p;  // before start: stop_owned() cleans up a half-started one too
    run(std::string(TP_EMAIL_POSTFIX_SH) + " start " + p->dir_.string() + " 2>&1");
  }
  p->port_ = static_cast<uint16_t>(std::stoi(read_file(p->dir_ / "port")));
  g_postfix = p;
  return *p;
}

void Postfix::stop_owned() {
  if (g_postfix == nullptr || !g_postfix->owned_) return;
  try {
    run(std::string(TP_EMAIL_POSTFIX_SH) + " stop " + g_postfix->dir_.string() + " 2>&1");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stopping postfix: %s\n", e.what());
  }
  std::error_code ec;
  fs::remove_all(g_postfix->dir_, ec);
  delete g_postfix;
  g_postfix = nullptr;
}

std::vector<std::string> mail_containing(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string content = read_file(e.path());
    if (content.find(needle) != std::string::npos) out.push_back(std::move(content));
  }
  return out;
}

std::vector<std::string> wait_for_mail(const fs::path& dir, const std::string& needle, size_t count,
                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto found = mail_containing(dir, needle);
    if (found.size() >= count || std::chrono::steady_clock::now() >= deadline) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

ParsedMail::ParsedMail(const std::string& raw) {
  ensure_gmime();
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  msg_ = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  g_object_unref(stream);
}

ParsedMail::~ParsedMail() {
  if (msg_ != nullptr) g_object_unref(msg_);
}

std::string ParsedMail::header(const char* name) const {
  GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg_));
  GMimeHeader* h = g_mime_header_list_get_header(headers, name);
  if (h == nullptr) {  // GMime keeps Content-* headers on the top-level part
    headers = g_mime_object_get_header_list(g_mime_message_get_mime_part(msg_));
    h = g_mime_header_list_get_header(headers, name);
  }
  if (h == nullptr) return {};
  const char* raw = g_mime_header_get_raw_value(h);
  std::string v = raw != nullptr ? raw : "";
  std::string out;  // unfold
  for (const char c : v)
    if (c != '\r' && c != '\n') out.push_back(c);
  while (!out.empty() && (out.front() == ' ' || out.front() == '\t')) out.erase(out.begin());
  return out;
}

std::string ParsedMail::subject() const {
  const char* s = g_mime_message_get_subject(msg_);
  return s != nullptr ? s : "";
}

std::string ParsedMail::to_name() const {
  InternetAddressList* to = g_mime_message_get_addresses(msg_, GMIME_ADDRESS_TYPE_TO);
  if (internet_address_list_length(to) < 1) return {};
  const char* n = internet_address_get_name(internet_address_list_get_address(to, 0));
  return n != nullptr ? n : "";
}

std::string ParsedMail::to_address() const {
  InternetAddressList* to = g_mime_message_get_addresses(msg_, GMIME_ADDRESS_TYPE_TO);
  if (internet_address_list_length(to) < 1) return {};
  InternetAddress* ia = internet_address_list_get_address(to, 0);
  return INTERNET_ADDRESS_IS_MAILBOX(ia) ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)) : "";
}

std::string ParsedMail::content_type() const {
  GMimeContentType* ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(msg_));
  return std::string(g_mime_content_type_get_media_type(ct)) + "/" + g_mime_content_type_get_media_subtype(ct);
}

namespace {

struct FindPart {
  const char* type;
  std::string text;
  bool found = false;
};

void find_part(GMimeObject* /*parent*/, GMimeObject* part, gpointer user) {
  auto* f = static_cast<FindPart*>(user);
  if (f->found || !GMIME_IS_TEXT_PART(part)) return;
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  const std::string t =
      std::string(g_mime_content_type_get_media_type(ct)) + "/" + g_mime_content_type_get_media_subtype(ct);
  if (t != f->type) return;
  char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
  f->text = text != nullptr ? text : "";
  g_free(text);
  f->found = true;
}

}  // namespace

std::string ParsedMail::part_text(const char* mime_type) const {
  FindPart f{mime_type, {}, false};
  GMimeObject* top = g_mime_message_get_mime_part(msg_);
  if (GMIME_IS_MULTIPART(top)) {
    g_mime_multipart_foreach(GMIME_MULTIPART(top), &find_part, &f);
  } else {
    find_part(nullptr, top, &f);
  }
  return f.text;
}

void write_template(const fs::path& dir, const std::string& name, const std::string& subject, const std::string& text,
                    const std::string& html) {
  write_file(dir / (name + ".subject"), subject);
  write_file(dir / (name + ".txt"), text);
  if (!html.empty()) write_file(dir / (name + ".html"), html);
}

std::string sink_config(const fs::path& templates, uint16_t port, const std::string& extra_smtp,
                        const std::string& extra_top) {
  return R"({"smtp":{"host":"127.0.0.1","port":)" + std::to_string(port) + R"(,"tls":"none","timeout_ms":5000)" +
         extra_smtp + R"(},"from":"Bank <news@bank.example>","return_path":"bounces@bank.example",)" +
         R"("message_id_domain":"mail.bank.example","templates":")" + templates.string() +
         R"(","unsubscribe":{"url_base":"https://bank.example/u","mailto":"unsubscribe@bank.example",)" +
         R"("secret":"0123456789abcdef0123"})" + extra_top + "}";
}

std::string message_data(const std::string& contact_id, const std::string& to, const std::string& first_name,
                         const std::string& last_name, const std::string& template_name, bool transactional) {
  nlohmann::json d = {{"contact_id", contact_id},
                      {"channel", "email"},
                      {"campaign", "spring-savings"},
                      {"offer", "savings-plus"},
                      {"purpose", "marketing"},
                      {"transactional", transactional},
                      {"template", template_name},
                      {"vars", {{"rate", "3.1 %"}}},
                      {"to", to},
                      {"customer",
                       {{"profile_id", 42},
                        {"salutation", "Frau"},
                        {"first_name", first_name},
                        {"last_name", last_name},
                        {"email", to}}}};
  return d.dump();
}

// ------------------------------------------------------------------ proxy

TcpProxy::TcpProxy(uint16_t target) : target_(target) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("proxy: bind/listen failed");
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  acceptor_.join();
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& t : pumps_) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void TcpProxy::drop_connections() { ++generation_; }

void TcpProxy::accept_loop() {
  while (!stop_) {
    if (gone_) {
      if (listen_fd_ >= 0) {
        ::close(listen_fd_);  // connection refused from now on
        listen_fd_ = -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    ++connections_;
    std::lock_guard<std::mutex> lk(mu_);
    pumps_.emplace_back([this, client] { pump(client); });
  }
}

void TcpProxy::pump(int client) {
  const int server = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(target_);
  if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(client);
    ::close(server);
    return;
  }
  const unsigned generation = generation_.load();
  std::string tail;  // the last bytes from the client, to find "\r\n.\r\n" across reads
  char buf[65536];
  bool open = true;
  while (open && !stop_ && !gone_ && generation == generation_.load()) {
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(p, 2, 20) <= 0) continue;
    for (int k = 0; k < 2 && open; ++k) {
      if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const int from = k == 0 ? client : server, to = k == 0 ? server : client;
      const ssize_t n = ::read(from, buf, sizeof(buf));
      if (n <= 0) {
        open = false;
        break;
      }
      size_t forward = static_cast<size_t>(n);
      if (k == 0 && cut_at_ > 0) {
        const std::string seen = tail + std::string(buf, static_cast<size_t>(n));
        size_t pos = 0;
        while ((pos = seen.find("\r\n.\r\n", pos)) != std::string::npos) {
          if (++terminators_ == cut_at_) {
            // Forward what came before this end-of-data, never the terminator: the server
            // discards the unfinished message. Then the server is gone.
            const size_t keep = pos > tail.size() ? pos - tail.size() : 0;
            forward = keep;
            gone_ = true;
            open = false;
            break;
          }
          pos += 5;
        }
        tail = seen.size() > 4 ? seen.substr(seen.size() - 4) : seen;
      }
      size_t off = 0;
      while (off < forward) {
        const ssize_t w = ::write(to, buf + off, forward - off);
        if (w <= 0) {
          open = false;
          break;
        }
        off += static_cast<size_t>(w);
      }
    }
  }
  ::close(client);
  ::close(server);
}

}  // namespace tp_email::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new tp_email::test::PostfixEnvironment());
  return RUN_ALL_TESTS();
}
