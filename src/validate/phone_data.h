#pragma once
/// The libphonenumber metadata contactgate judges phone numbers with.
///
/// Both phone validators read one serialized PhoneMetadataCollection: the fast validator
/// compiles it, and libphonenumber's PhoneNumberUtil reads it through metadata_get(), which
/// this module defines (the executable's definition takes the place of the library's own
/// 8.12.57 copy). By default that is the data embedded at build time (made by
/// scripts/phone_metadata.py from the pinned PyPI `phonenumbers` release); an operator can
/// load another file made by the same tool (`pipeline.phone_metadata`,
/// `validate --phone-metadata`).
///
/// A data file FILE comes with its manifest FILE.json (release, sha256, size, canaries).
/// Loading checks the digest and size against the manifest, that the bytes parse as a
/// PhoneMetadataCollection of plausible size, and make_phone_validator() checks every
/// validator against the manifest's canary verdicts: any failure stops start-up with a
/// message; there is no fall-back to other data.
///
/// Threading: use_phone_metadata() is for start-up, before any validator exists and before
/// other threads run; afterwards everything here is immutable and safe from any thread.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cg::validate {

class phone_validator;

/// A phone metadata file that cannot be used (a configuration error: exit 2).
class phone_data_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the data in use is.
struct phone_data_info {
  std::string release;  ///< e.g. "9.0.43": the `phonenumbers` release the data was made from
  std::string sha256;   ///< hex digest of the serialized collection
  std::size_t bytes = 0;
  std::size_t entities = 0;  ///< regions and non-geographic entities
  std::string origin;        ///< "built-in" or the file's path
  /// Numbers with the verdict the release's own implementation gives them ("VALID",
  /// "NOT_VALID", "TOO_SHORT", ...; contactgate's detail names).
  std::vector<std::pair<std::string, std::string>> canaries;
};

/// Makes the data file `path` (and `path`.json) the process's phone metadata. Throws
/// phone_data_error with a message naming the file and the problem (missing, unreadable,
/// digest or size mismatch, not a PhoneMetadataCollection, implausible), or when metadata
/// was already handed to a validator (libphonenumber reads it once per process). An empty
/// path keeps the built-in data.
void use_phone_metadata(const std::string& path);

/// The data in use (the built-in data until use_phone_metadata() loads another file).
[[nodiscard]] const phone_data_info& phone_data();

/// The serialized PhoneMetadataCollection in use. Marks the data as handed out.
[[nodiscard]] std::string_view phone_metadata_bytes();

/// Judges the manifest's canaries with `v`; throws phone_data_error naming the first
/// canary (masked) whose verdict differs.
void check_phone_canaries(const phone_validator& v);

/// Parses and checks a data file and its manifest without using it (for tests and tools);
/// throws phone_data_error as use_phone_metadata().
[[nodiscard]] phone_data_info inspect_phone_metadata(const std::string& path, std::string& bytes_out);

}  // namespace cg::validate
