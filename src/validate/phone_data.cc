#include "validate/phone_data.h"

#include <openssl/evp.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <simdjson.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "validate/libphonenumber_metadata.h"
#include "validate/phone.h"

// The built-in data, embedded by phone_metadata_blob.S (see src/validate/CMakeLists.txt).
extern "C" const char cg_phone_metadata_bin[];
extern "C" const char cg_phone_metadata_bin_end[];
extern "C" const char cg_phone_metadata_json[];
extern "C" const char cg_phone_metadata_json_end[];

namespace cg::validate {
namespace {

namespace pn = i18n::phonenumbers;

// A file larger than this is not libphonenumber metadata (9.0.43: ~200 KB).
constexpr std::size_t max_bytes = 16u << 20;
// Fewer entities than this is a truncated or foreign collection (8.12.57 and 9.0.43: 254).
constexpr std::size_t min_entities = 240;

struct active_data {
  std::string owned;  // bytes of a loaded file; empty for the built-in data
  std::string_view bytes;
  phone_data_info info;
};

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256 failed (OpenSSL)");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// Reads the manifest and checks `bytes` against it. `what` names the data in messages.
phone_data_info check(std::string_view bytes, std::string_view manifest, const std::string& what) {
  const auto fail = [&](const std::string& msg) -> void { throw phone_data_error(what + ": " + msg); };
  phone_data_info info;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(manifest.data(), manifest.size()).get(doc) != simdjson::SUCCESS)
    fail("its manifest (.json) is not valid JSON");
  std::string_view format, release, sha;
  std::int64_t size = -1;
  if (doc["format"].get(format) || format != "contactgate phone metadata 1")
    fail("its manifest is not a contactgate phone metadata manifest (format)");
  if (doc["release"].get(release) || doc["sha256"].get(sha) || doc["bytes"].get(size))
    fail("its manifest lacks release, sha256 or bytes");
  info.release = release;
  info.sha256 = sha;
  if (bytes.size() > max_bytes) fail("larger than " + std::to_string(max_bytes) + " bytes: not phone metadata");
  if (static_cast<std::int64_t>(bytes.size()) != size)
    fail("is " + std::to_string(bytes.size()) + " bytes, its manifest says " + std::to_string(size) +
         " (truncated or replaced?)");
  if (sha256_hex(bytes) != info.sha256)
    fail("sha256 " + sha256_hex(bytes) + " differs from its manifest's " + info.sha256 + " (corrupt or replaced?)");
  pn::PhoneMetadataCollection collection;
  if (!collection.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail("not a serialized PhoneMetadataCollection");
  info.entities = static_cast<std::size_t>(collection.metadata_size());
  bool has_us = false;
  for (const auto& m : collection.metadata()) has_us |= m.id() == "US" && m.country_code() == 1;
  if (info.entities < min_entities || !has_us)
    fail("implausible: " + std::to_string(info.entities) + " entities" + (has_us ? "" : ", no US (+1)") +
         " (a complete collection has at least " + std::to_string(min_entities) + ")");
  simdjson::dom::object canaries;
  if (doc["canaries"].get(canaries) || canaries.size() == 0) fail("its manifest has no canaries");
  for (auto [number, verdict] : canaries) {
    std::string_view v;
    if (verdict.get(v)) fail("its manifest's canary verdicts must be strings");
    info.canaries.emplace_back(std::string(number), std::string(v));
  }
  info.bytes = bytes.size();
  return info;
}

active_data make_builtin() {
  active_data d;
  d.bytes = std::string_view(cg_phone_metadata_bin,
                             static_cast<std::size_t>(cg_phone_metadata_bin_end - cg_phone_metadata_bin));
  const std::string_view manifest(cg_phone_metadata_json,
                                  static_cast<std::size_t>(cg_phone_metadata_json_end - cg_phone_metadata_json));
  d.info = check(d.bytes, manifest, "built-in phone metadata");
  d.info.origin = "built-in";
  return d;
}

active_data& active() {
  static active_data d = make_builtin();
  return d;
}

std::atomic<bool> handed_out{false};

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw phone_data_error(what + ": cannot open " + path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw phone_data_error(what + ": cannot read " + path);
  return s;
}

std::string masked(std::string_view number) {
  std::string s(number);
  for (std::size_t i = 5; i + 2 < s.size(); ++i) s[i] = '*';
  return s;
}

}  // namespace

phone_data_info inspect_phone_metadata(const std::string& path, std::string& bytes_out) {
  const std::string what = "phone metadata " + path;
  bytes_out = read_file(path, what);
  const std::string manifest =
      read_file(path + ".json", what + " (its manifest, written beside it by scripts/phone_metadata.py)");
  phone_data_info info = check(bytes_out, manifest, what);
  info.origin = path;
  return info;
}

void use_phone_metadata(const std::string& path) {
  if (path.empty()) return;
  if (handed_out.load())
    throw phone_data_error("phone metadata " + path +
                           ": the built-in data is already in use; load the file before any phone validator is made");
  active_data d;
  d.info = inspect_phone_metadata(path, d.owned);
  d.bytes = d.owned;
  active() = std::move(d);
}

const phone_data_info& phone_data() { return active().info; }

std::string_view phone_metadata_bytes() {
  handed_out.store(true);
  return active().bytes;
}

void check_phone_canaries(const phone_validator& v) {
  const phone_data_info& info = phone_data();
  for (const auto& [number, expected] : info.canaries) {
    const std::string_view got = to_string(v.check(number));
    if (got != expected)
      throw phone_data_error("phone metadata " + info.origin + " (release " + info.release + "): canary " +
                             masked(number) + " is " + std::string(got) + " with the " + std::string(v.name()) +
                             " validator, the release says " + expected +
                             ": the data in use is not what its manifest names");
  }
}

std::string phone_metadata_version() {
  const phone_data_info& info = phone_data();
  std::string s = "libphonenumber metadata " + info.release + " (sha256 " + info.sha256.substr(0, 16) + ", " +
                  std::to_string(info.bytes) + " bytes";
  if (info.origin != "built-in") s += ", from " + info.origin;
  return s + "; code " + CG_PHONENUMBER_VERSION + ")";
}

}  // namespace cg::validate

// libphonenumber's PhoneNumberUtil reads its metadata through these two functions; the
// executable's definitions take the place of the library's (see libphonenumber_metadata.h).
namespace i18n::phonenumbers {
int metadata_size() { return static_cast<int>(cg::validate::phone_metadata_bytes().size()); }
const void* metadata_get() { return cg::validate::phone_metadata_bytes().data(); }
}  // namespace i18n::phonenumbers
