// hash: { fields: [email, phone], algorithm: sha256, salt: "..." }
//
// Replaces each field with the lowercase hex digest of salt + value (OpenSSL
// EVP). Strings are hashed as they are (normalize first for stable matching),
// numbers in their JSON text form ("42"). Missing and null fields are skipped;
// other types are rejected. md5 and sha1 exist only for legacy matching
// partners; prefer sha256.

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <utility>
#include <vector>

#include "transform/builtin.hpp"
#include "transform/options.hpp"
#include "transform/text_form.hpp"

namespace touchpoint::core::transform {
namespace {

struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

/// One digest context per thread, reused for every value: no per-record allocation.
EVP_MD_CTX* thread_context() {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

class HashFields final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override { return uses(fields_, true, true); }
  HashFields(std::vector<FieldPath> fields, std::unique_ptr<EVP_MD, MdDeleter> md, std::string salt)
      : fields_(std::move(fields)), md_(std::move(md)), salt_(std::move(salt)) {}

  StepResult apply(Record& record) const override {
    std::string scratch;
    for (const FieldPath& f : fields_) {
      Json* value = f.find(record.data);
      if (value == nullptr || value->is_null()) continue;
      const std::string* text = text_form(*value, scratch);
      if (text == nullptr) {
        return StepResult::reject("cannot hash field '" + f.text() + "': " + value->type_name() +
                                  " is not a string or number");
      }
      std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
      unsigned int size = 0;
      EVP_MD_CTX* ctx = thread_context();
      if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md_.get(), nullptr) != 1 ||
          EVP_DigestUpdate(ctx, salt_.data(), salt_.size()) != 1 ||
          EVP_DigestUpdate(ctx, text->data(), text->size()) != 1 ||
          EVP_DigestFinal_ex(ctx, digest.data(), &size) != 1) {
        return StepResult::reject("cannot hash field '" + f.text() + "': OpenSSL digest failed");
      }
      static constexpr char kHex[] = "0123456789abcdef";
      if (!value->is_string()) *value = std::string();
      std::string& out = value->get_ref<std::string&>();
      out.resize(2 * size);
      for (unsigned int i = 0; i < size; ++i) {
        out[2 * i] = kHex[digest[i] >> 4];
        out[2 * i + 1] = kHex[digest[i] & 0x0f];
      }
    }
    return StepResult::keep();
  }

 private:
  std::vector<FieldPath> fields_;
  std::unique_ptr<EVP_MD, MdDeleter> md_;  ///< fetched once; EVP_MD objects are immutable and shareable
  std::string salt_;
};

}  // namespace

std::unique_ptr<Transform> make_hash(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source) {
  Options o(options, anchor, "hash", {"fields", "algorithm", "salt"}, source);
  std::vector<FieldPath> fields = o.paths("fields", PathScope::data_only);
  std::string algorithm = o.string("algorithm", "sha256");
  const char* openssl_name = nullptr;
  if (algorithm == "sha256") openssl_name = "SHA2-256";
  if (algorithm == "sha384") openssl_name = "SHA2-384";
  if (algorithm == "sha512") openssl_name = "SHA2-512";
  if (algorithm == "sha1") openssl_name = "SHA1";
  if (algorithm == "md5") openssl_name = "MD5";
  if (openssl_name == nullptr) {
    o.fail("algorithm", "unknown hash algorithm '" + algorithm + "' (known: sha256, sha384, sha512, sha1, md5)");
  }
  std::unique_ptr<EVP_MD, MdDeleter> md(EVP_MD_fetch(nullptr, openssl_name, nullptr));
  if (!md) o.fail("algorithm", "hash algorithm '" + algorithm + "' is not available in this OpenSSL build");
  std::string salt = o.string("salt", "");
  return std::make_unique<HashFields>(std::move(fields), std::move(md), std::move(salt));
}

}  // namespace touchpoint::core::transform
