#include "generate/corpus.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <mutex>
#include <string_view>

#include "core/format.h"
#include "validate/postal_table.h"

namespace cg::generate {

namespace pn = i18n::phonenumbers;

namespace {

// Thirty-two countries with large contact volumes, including some without postal codes.
const std::vector<std::string> k_countries = {"US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT",
                                              "SE", "NO", "DK", "PL", "PT", "IE", "BR", "MX", "AR", "CO", "IN",
                                              "JP", "KR", "AU", "NZ", "ZA", "NG", "SG", "AE", "HK", "IL"};

struct country_pool {
  std::string code;
  std::vector<std::string> phones;  // valid E.164 numbers
  std::vector<std::string> zips;    // empty when the country has no postal codes
};

std::string e164_of(const pn::PhoneNumber& n) {
  std::string out;
  pn::PhoneNumberUtil::GetInstance()->Format(n, pn::PhoneNumberUtil::E164, &out);
  return out;
}

// Valid numbers: libphonenumber's example numbers with their last digits varied, kept only
// when libphonenumber says valid.
std::vector<std::string> make_phones(const std::string& region, std::mt19937_64& rng) {
  const auto& util = *pn::PhoneNumberUtil::GetInstance();
  std::vector<std::string> out;
  for (auto type : {pn::PhoneNumberUtil::MOBILE, pn::PhoneNumberUtil::FIXED_LINE}) {
    pn::PhoneNumber ex;
    if (!util.GetExampleNumberForType(region, type, &ex)) continue;
    const std::string base = e164_of(ex);
    out.push_back(base);
    for (int attempt = 0; attempt < 120 && out.size() < 48; ++attempt) {
      std::string cand = base;
      for (std::size_t k = cand.size() - 4; k < cand.size(); ++k) cand[k] = static_cast<char>('0' + rng() % 10);
      pn::PhoneNumber parsed;
      if (util.Parse(cand, "ZZ", &parsed) == pn::PhoneNumberUtil::NO_PARSING_ERROR && util.IsValidNumber(parsed)) {
        out.push_back(cand);
      }
    }
  }
  return out;
}

// Zips: the table's example with digits and letters varied, kept when they still match.
std::vector<std::string> make_zips(const validate::postal_row& row, std::mt19937_64& rng) {
  std::vector<std::string> out;
  if (!row.has_postal_codes) return out;
  const auto& table = validate::postal_table::builtin();
  out.push_back(row.example);
  for (int attempt = 0; attempt < 200 && out.size() < 32; ++attempt) {
    std::string z = row.example;
    for (char& c : z) {
      if (c >= '0' && c <= '9') c = static_cast<char>('0' + rng() % 10);
    }
    if (table.check(row.code, z) == validate::zip_check::ok) out.push_back(z);
  }
  return out;
}

const std::vector<country_pool>& pools() {
  static const std::vector<country_pool> built = [] {
    std::mt19937_64 rng(20261127);
    std::vector<country_pool> v;
    const auto& table = validate::postal_table::builtin();
    for (const auto& cc : k_countries) {
      country_pool p;
      p.code = cc;
      p.phones = make_phones(cc, rng);
      if (const auto* row = table.find(cc)) p.zips = make_zips(*row, rng);
      if (!p.phones.empty()) v.push_back(std::move(p));
    }
    return v;
  }();
  return built;
}

constexpr std::array<std::string_view, 12> k_first = {"Ana",  "Bo",   "Chen", "Dara", "Eli", "Femi",
                                                      "Gita", "Hugo", "Ines", "Jon",  "Kai", "Lea"};
constexpr std::array<std::string_view, 8> k_last = {"Silva", "Berg",   "Okafor", "Tanaka",
                                                    "Novak", "Garcia", "Ito",    "Klein"};

// Every invalid kind the rules can produce, drawn uniformly.
enum class fault : int {
  corr_missing,
  corr_type,
  corr_length,
  corr_hex,
  corr_hyphen,
  corr_duplicate,
  country_missing,
  country_type,
  country_lower,
  country_unassigned,
  phone_missing,
  phone_type,
  phone_no_plus,
  phone_non_digit,
  phone_too_many,
  phone_leading_zero,
  phone_bad_cc,
  phone_short,
  phone_long,
  phone_not_valid,
  zip_type,
  zip_mismatch,
  zip_no_postal,
  count
};

}  // namespace

const std::vector<std::string>& generator_countries() { return k_countries; }

corpus_generator::corpus_generator(corpus_options opts) : _opts(opts), _rng(opts.seed) { (void)pools(); }

std::string corpus_generator::fresh_correlation_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  const std::uint64_t a = _rng(), b = _rng() ^ (++_counter);
  for (int i = 0; i < 16; ++i) id[static_cast<std::size_t>(i)] = hex[(a >> (4 * i)) & 0xf];
  for (int i = 0; i < 16; ++i) id[static_cast<std::size_t>(16 + i)] = hex[(b >> (4 * i)) & 0xf];
  return id;
}

std::string corpus_generator::make_contact(bool invalid) {
  const auto& ps = pools();
  const country_pool* pool = &ps[_rng() % ps.size()];
  const fault f = invalid ? static_cast<fault>(_rng() % static_cast<int>(fault::count)) : fault::count;

  std::string corr = fresh_correlation_id();
  std::string corr_json;
  switch (f) {
    case fault::corr_missing: break;
    case fault::corr_type: corr_json = "12345"; break;
    case fault::corr_length: corr.pop_back(); break;
    case fault::corr_hex: corr[7] = 'g'; break;
    case fault::corr_hyphen:
      corr = corr.substr(0, 8) + "-" + corr.substr(8, 4) + "-" + corr.substr(12, 4) + "-" + corr.substr(16, 4) + "-" +
             corr.substr(20);
      break;
    case fault::corr_duplicate:
      if (!_last_id.empty()) corr = _last_id;
      break;
    default: break;
  }
  _last_id = corr;

  std::string country = pool->code;
  std::string country_json;
  switch (f) {
    case fault::country_type: country_json = "840"; break;
    case fault::country_lower:
      country = {static_cast<char>(country[0] + 32), static_cast<char>(country[1] + 32)};
      break;
    case fault::country_unassigned: country = "XK" == country ? "QQ" : (_rng() % 2 ? "XX" : "UK"); break;
    default: break;
  }

  std::string phone = pool->phones[_rng() % pool->phones.size()];
  std::string phone_json;
  switch (f) {
    case fault::phone_type: phone_json = phone.substr(1); break;
    case fault::phone_no_plus: phone = phone.substr(1); break;
    case fault::phone_non_digit: phone.insert(phone.size() - 4, "-"); break;
    case fault::phone_too_many:
      phone += "1234567890";
      phone.resize(17);
      break;
    case fault::phone_leading_zero: phone = "+0" + phone.substr(1); break;
    case fault::phone_bad_cc: phone = "+999" + phone.substr(phone.size() - 8); break;
    case fault::phone_short: phone.resize(phone.size() > 6 ? 6 : phone.size()); break;
    case fault::phone_long:
      phone += "99999";
      phone.resize(std::min<std::size_t>(phone.size(), 16));
      break;
    case fault::phone_not_valid: {
      // Same length, digits after the calling code replaced: mostly in no number range.
      for (std::size_t k = 3; k < phone.size(); ++k) phone[k] = '0';
      break;
    }
    default: break;
  }

  std::string zip;
  bool with_zip = !pool->zips.empty();
  std::string zip_json;
  if (with_zip) zip = pool->zips[_rng() % pool->zips.size()];
  switch (f) {
    case fault::zip_type:
      zip_json = "12345";
      with_zip = true;
      break;
    case fault::zip_mismatch:
      if (!pool->zips.empty())
        zip = zip + "7Q";
      else
        zip = "12345";
      with_zip = true;
      break;
    case fault::zip_no_postal: {
      // Move the contact to a country without postal codes, keeping a zip.
      for (const auto& p : ps) {
        if (p.zips.empty()) {
          pool = &p;
          country = p.code;
          phone = p.phones[_rng() % p.phones.size()];
          break;
        }
      }
      zip = "10001";
      with_zip = true;
      break;
    }
    default: break;
  }

  std::string out;
  out.reserve(200);
  out.push_back('{');
  bool first = true;
  auto key = [&](std::string_view k) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, k);
    out.push_back(':');
  };
  if (f != fault::corr_missing) {
    key("correlation_id");
    if (!corr_json.empty())
      out += corr_json;
    else
      append_json_string(out, corr);
  }
  if (f != fault::phone_missing) {
    key("contact_id");
    if (!phone_json.empty())
      out += phone_json;
    else
      append_json_string(out, phone);
  }
  if (f != fault::country_missing) {
    key("country_iso_code");
    if (!country_json.empty())
      out += country_json;
    else
      append_json_string(out, country);
  }
  if (with_zip) {
    key("zip_code");
    if (!zip_json.empty())
      out += zip_json;
    else
      append_json_string(out, zip);
  }
  key("first_name");
  append_json_string(out, k_first[_rng() % k_first.size()]);
  key("last_name");
  append_json_string(out, k_last[_rng() % k_last.size()]);
  key("opt_in");
  out += (_rng() % 2) ? "true" : "false";
  out.push_back('}');
  return out;
}

std::string corpus_generator::next_contact() {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(_rng);
  return make_contact(u < _opts.invalid_ratio);
}

std::string corpus_generator::next_payload() {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(_rng);
  if (u >= _opts.array_ratio + _opts.bulk_ratio) return next_contact();
  const std::uint32_t n =
      1 + static_cast<std::uint32_t>(_rng() % std::max<std::uint32_t>(1, _opts.max_contacts_per_batch));
  std::string out = u < _opts.array_ratio ? "[" : "{\"contacts\":[";
  for (std::uint32_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    out += next_contact();
  }
  out += u < _opts.array_ratio ? "]" : "]}";
  return out;
}

std::vector<std::string> corpus_generator::contacts(std::size_t n) {
  std::vector<std::string> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.push_back(next_contact());
  return v;
}

}  // namespace cg::generate
