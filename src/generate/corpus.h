#pragma once
/// Deterministic generator of contact payloads: the sample stream of the demo, the load
/// generator, and the corpus of every benchmark.
///
/// Realistic data for 32 countries: phone numbers that libphonenumber finds valid (derived
/// from its example numbers), zips that match the country's postal format. About
/// `invalid_ratio` of the contacts are invalid, spread evenly over every reason and detail
/// the rules can produce. Same seed, same output.
/// Threading: a generator is not thread-safe; make one per thread (cheap after the first,
/// which builds the shared number pools once).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cg::generate {

struct corpus_options {
  std::uint64_t seed{42};
  double invalid_ratio{0.2};
  /// Share of payloads that are arrays / bulk requests (the rest are single contacts).
  double array_ratio{0.0};
  double bulk_ratio{0.0};
  std::uint32_t max_contacts_per_batch{8};
};

class corpus_generator {
 public:
  explicit corpus_generator(corpus_options opts = {});

  /// One payload (a single contact, an array or a bulk request).
  [[nodiscard]] std::string next_payload();
  /// One contact object.
  [[nodiscard]] std::string next_contact();
  /// `n` single-contact payloads.
  [[nodiscard]] std::vector<std::string> contacts(std::size_t n);

 private:
  std::string make_contact(bool invalid);
  std::string fresh_correlation_id();

  corpus_options _opts;
  std::mt19937_64 _rng;
  std::string _last_id;
  std::uint64_t _counter{0};
};

/// The countries the generator draws from.
[[nodiscard]] const std::vector<std::string>& generator_countries();

}  // namespace cg::generate
