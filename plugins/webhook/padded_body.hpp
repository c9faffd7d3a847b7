// A Beast request body that stores the payload in a std::string whose
// capacity always leaves kBodyPadding spare bytes after the data, so the body
// can be handed to simdjson without a padded copy.
#ifndef TOUCHPOINT_WEBHOOK_PADDED_BODY_HPP
#define TOUCHPOINT_WEBHOOK_PADDED_BODY_HPP

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <string>

#include "tp_common/body_parser.hpp"

namespace touchpoint::webhook {

// The body parser and its parts are shared with the tcp source (plugins/common).
using namespace tp_common;

struct PaddedBody {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) noexcept { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>& /*header*/, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& content_length, boost::beast::error_code& ec) {
      body_.clear();
      if (content_length) {
        if (*content_length > body_.max_size() - kBodyPadding) {
          ec = boost::beast::http::error::buffer_overflow;
          return;
        }
        body_.reserve(static_cast<size_t>(*content_length) + kBodyPadding);
      } else {
        body_.reserve(4096);
      }
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      const std::size_t n = boost::asio::buffer_size(buffers);
      const std::size_t old = body_.size();
      if (n > body_.max_size() - kBodyPadding - old) {
        ec = boost::beast::http::error::buffer_overflow;
        return 0;
      }
      const std::size_t needed = old + n + kBodyPadding;
      if (body_.capacity() < needed) body_.reserve(needed > 2 * body_.capacity() ? needed : 2 * body_.capacity());
      body_.resize(old + n);
      ec = {};
      return boost::asio::buffer_copy(boost::asio::buffer(body_.data() + old, n), buffers);
    }

    void finish(boost::beast::error_code& ec) {
      if (body_.capacity() < body_.size() + kBodyPadding) body_.reserve(body_.size() + kBodyPadding);
      ec = {};
    }

   private:
    value_type& body_;
  };
};

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_PADDED_BODY_HPP
