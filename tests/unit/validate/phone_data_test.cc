// The phone data: the built-in release, and the checks that stop a bad data file at start.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <phonenumbers/phonemetadata.pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "validate/phone.h"
#include "validate/phone_data.h"

namespace cg::validate {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

void write(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// The built-in data and manifest, written out as an operator's file would be.
class PhoneDataFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cg_phone_data_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    file_ = dir_ / "phone.bin";
    write(file_, phone_metadata_bytes());
    write(fs::path(file_.string() + ".json"), read(fs::path(CG_PHONE_METADATA_BIN ".json")));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The message inspect_phone_metadata() stops with, or "" when it accepts the file.
  std::string problem() {
    try {
      std::string bytes;
      (void)inspect_phone_metadata(file_.string(), bytes);
      return "";
    } catch (const phone_data_error& e) {
      return e.what();
    }
  }

  fs::path dir_, file_;
};

TEST(PhoneData, BuiltInIsThePinnedRelease) {
  const phone_data_info& info = phone_data();
  EXPECT_EQ(info.release, CG_PHONE_RELEASE);
  EXPECT_EQ(info.origin, "built-in");
  EXPECT_EQ(info.sha256.size(), 64u);
  EXPECT_GE(info.entities, 240u);
  EXPECT_EQ(info.bytes, phone_metadata_bytes().size());
  EXPECT_NE(phone_metadata_version().find("libphonenumber metadata " CG_PHONE_RELEASE " (sha256 " +
                                          info.sha256.substr(0, 16)),
            std::string::npos)
      << phone_metadata_version();
}

// Numbers whose ranges opened after Debian's 8.12.57 data: valid with the built-in data, by
// both validators (libphonenumber itself reads the data through metadata_get()).
TEST(PhoneData, CanariesOfCurrentDataAreValidWithBothValidators) {
  for (const char* name : {"fast", "reference"}) {
    const auto v = make_phone_validator(name);
    EXPECT_EQ(v->check("+2290195123456"), phone_verdict::valid) << name;    // Benin, 10-digit plan
    EXPECT_EQ(v->check("+13532101234"), phone_verdict::valid) << name;      // NANP area code 353
    EXPECT_EQ(v->check("+22997123456"), phone_verdict::too_short) << name;  // Benin's old 8-digit plan
  }
}

TEST_F(PhoneDataFile, TheBuiltInDataWrittenToAFileIsAccepted) { EXPECT_EQ(problem(), ""); }

TEST_F(PhoneDataFile, MissingFileOrManifestStops) {
  fs::remove(fs::path(file_.string() + ".json"));
  EXPECT_NE(problem().find("cannot open " + file_.string() + ".json"), std::string::npos) << problem();
  fs::remove(file_);
  EXPECT_NE(problem().find("cannot open " + file_.string()), std::string::npos) << problem();
}

TEST_F(PhoneDataFile, TruncatedFileStops) {
  const std::string bytes = read(file_);
  write(file_, std::string_view(bytes).substr(0, bytes.size() / 2));
  EXPECT_NE(problem().find("truncated"), std::string::npos) << problem();
}

TEST_F(PhoneDataFile, CorruptByteStops) {
  std::string bytes = read(file_);
  bytes[bytes.size() / 3] ^= 0x20;
  write(file_, bytes);
  EXPECT_NE(problem().find("differs from its manifest"), std::string::npos) << problem();
}

TEST_F(PhoneDataFile, ManifestThatIsNotJsonStops) {
  write(fs::path(file_.string() + ".json"), "release=9.0.43\n");
  EXPECT_NE(problem().find("not valid JSON"), std::string::npos) << problem();
}

// A well-formed collection with a matching manifest, but only a few regions.
TEST_F(PhoneDataFile, ImplausiblySmallCollectionStops) {
  i18n::phonenumbers::PhoneMetadataCollection all, few;
  const std::string_view bytes = phone_metadata_bytes();
  ASSERT_TRUE(all.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  for (int i = 0; i < 10; ++i) *few.add_metadata() = all.metadata(i);
  const std::string small = few.SerializeAsString();
  write(file_, small);
  std::string manifest = read(fs::path(file_.string() + ".json"));
  const auto replace_value = [&](const std::string& key, const std::string& value) {
    const auto k = manifest.find("\"" + key + "\": ");
    ASSERT_NE(k, std::string::npos);
    const auto start = k + key.size() + 4;
    const auto end = manifest.find_first_of(",\n", start);
    manifest.replace(start, end - start, value);
  };
  replace_value("bytes", std::to_string(small.size()));
  replace_value("sha256", "\"" + sha256_hex(small) + "\"");
  write(fs::path(file_.string() + ".json"), manifest);
  EXPECT_NE(problem().find("implausible: 10 entities"), std::string::npos) << problem();
}

}  // namespace
}  // namespace cg::validate
