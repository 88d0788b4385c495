#include "parse/payload_parser.h"

#include <simdjson.h>

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/utf8.h"
#include "parse/json_check.h"

namespace cg::parse {

namespace od = simdjson::ondemand;

namespace {

constexpr std::string_view bom = "\xEF\xBB\xBF";

// simdjson 3.0.1, ondemand::parser::iterate(): "The buffer must have at least
// SIMDJSON_PADDING extra allocated bytes. It does not matter what those bytes are
// initialized to, as long as they are allocated."
static_assert(payload_padding == simdjson::SIMDJSON_PADDING);

bool is_json_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim_token(std::string_view t) noexcept {
  while (!t.empty() && is_json_space(t.back())) t.remove_suffix(1);
  return t;
}

// RFC 8259 number grammar. simdjson's number parser refuses valid JSON numbers that do
// not fit a double or 64-bit integer (1e400, 30-digit integers); those are valid JSON and
// must not make a payload malformed, so numbers are checked by grammar only.
bool is_json_number(std::string_view t) noexcept {
  std::size_t i = 0;
  const std::size_t n = t.size();
  auto digit = [&](std::size_t k) { return k < n && t[k] >= '0' && t[k] <= '9'; };
  if (i < n && t[i] == '-') ++i;
  if (!digit(i)) return false;
  if (t[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == n;
}

// The text of a JSON string that holds no escape, read straight from the document: `body`
// points just after its opening quote (inside the padded buffer, so 16-byte loads past the end
// of the string stay within the padding). Sets `out` to the bytes up to the closing quote and
// returns true when no '\\' comes before it: such a string unescapes to exactly those bytes, so
// this is what simdjson's unescaping (parse_string) would produce. False (out untouched) when
// the string has an escape: the caller unescapes it with simdjson.
bool unescaped_in_place(const char* body, std::string_view& out) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (const char* p = body;; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
    const auto b = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash)));
    if ((q | b) == 0) continue;
    const auto first = static_cast<unsigned>(__builtin_ctz(q | b));
    if ((b >> first) & 1u) return false;  // an escape before the closing quote
    out = std::string_view(body, static_cast<std::size_t>(p - body) + first);
    return true;
  }
#else
  const char* p = body;
  while (*p != '"' && *p != '\\') ++p;
  if (*p == '\\') return false;
  out = std::string_view(body, static_cast<std::size_t>(p - body));
  return true;
#endif
}

enum class known_key : std::uint8_t { correlation_id, contact_id, country_iso_code, zip_code, other };

// A duplicate key's name for the reason's note: static text, never a view of the payload or
// simdjson's string buffer (both are reused by the next parse; core/outcome.h).
std::string_view name_of(known_key k) noexcept {
  switch (k) {
    case known_key::correlation_id: return "correlation_id";
    case known_key::contact_id: return "contact_id";
    case known_key::country_iso_code: return "country_iso_code";
    case known_key::zip_code: return "zip_code";
    case known_key::other: break;
  }
  return {};
}

// Called for every key: the four names have four different lengths, so one compare of the
// length picks the only name to compare with (a fixed-size compare, inlined).
inline known_key classify(std::string_view k) noexcept {
  const auto is = [k](std::string_view name) { return std::memcmp(k.data(), name.data(), name.size()) == 0; };
  switch (k.size()) {
    case 14: return is("correlation_id") ? known_key::correlation_id : known_key::other;
    case 10: return is("contact_id") ? known_key::contact_id : known_key::other;
    case 16: return is("country_iso_code") ? known_key::country_iso_code : known_key::other;
    case 8: return is("zip_code") ? known_key::zip_code : known_key::other;
    default: return known_key::other;
  }
}

}  // namespace

struct payload_parser::impl {
  explicit impl(payload_limits l)
      : limits(l), parser(l.max_payload_bytes + 64), check_stack(json_check_stack_words(l.max_payload_bytes)) {}

  payload_limits limits;
  od::parser parser;
  std::vector<std::uint64_t> check_stack;  // json_check's nesting bits, for the error path
  std::unique_ptr<char[]> buf;
  std::size_t cap{0};

  // State of the payload being parsed.
  const char* begin{nullptr};  // first byte of the JSON text inside buf
  const char* end{nullptr};
  std::int64_t shift{0};  // bytes dropped before `begin` (a UTF-8 BOM)
  od::document* doc{nullptr};
  reason* err{nullptr};
  std::vector<contact_fields>* out{nullptr};

  std::int64_t offset_of(const char* p) const noexcept {
    if (p == nullptr || p < begin || p > end) return -1;
    return (p - begin) + shift;
  }

  bool fail(detail d, const char* where, std::string_view note = {}, std::int64_t number = -1) noexcept {
    reason r;
    r.code = reason_code::malformed_payload;
    r.field = field_id::none;
    r.what = d;
    r.byte_offset = offset_of(where);
    r.note = note;
    r.number = number;
    *err = r;
    return false;
  }

  const char* here() noexcept {
    if (doc == nullptr) return nullptr;
    const char* p = nullptr;
    if (doc->current_location().get(p) != simdjson::SUCCESS) return end;
    return p;
  }

  bool fail_simdjson(simdjson::error_code e) noexcept {
    switch (e) {
      case simdjson::UTF8_ERROR: {
        const std::size_t at = find_invalid_utf8(std::string_view(begin, static_cast<std::size_t>(end - begin)));
        return fail(detail::invalid_utf8, at == std::string_view::npos ? nullptr : begin + at);
      }
      case simdjson::DEPTH_ERROR:
        return fail(detail::too_deep, here(), {}, static_cast<std::int64_t>(limits.max_depth));
      case simdjson::EMPTY: return fail(detail::empty_payload, nullptr);
      default: return fail(detail::invalid_json, here(), simdjson::error_message(e));
    }
  }

  static bool scalar_ok(od::json_type t, std::string_view tok) noexcept {
    switch (t) {
      case od::json_type::number: return is_json_number(tok);
      case od::json_type::boolean: return tok == "true" || tok == "false";
      case od::json_type::null: return tok == "null";
      default: return false;
    }
  }

  static const char* token_start(od::value& v) noexcept { return v.raw_json_token().data(); }

  // A field's key, as fld.unescaped_key() gives it; read in place when it has no escape.
  static simdjson::error_code key_of(od::field& fld, std::string_view& key) noexcept {
    if (unescaped_in_place(fld.key().raw(), key)) return simdjson::SUCCESS;
    return fld.unescaped_key().get(key);
  }

  // A string value, as v.get_string() gives it, and consumed as get_string() consumes it (the
  // on-demand iterator's position decides what is checked next); read in place when it has no
  // escape, with get_raw_json_string() advancing past it without unescaping. `v` must be of type
  // string (v.type() said so): its token starts with the opening quote.
  static simdjson::error_code string_of(od::value& v, std::string_view& s) noexcept {
    std::string_view in_place;
    if (!unescaped_in_place(v.raw_json_token().data() + 1, in_place)) return v.get_string().get(s);
    od::raw_json_string consumed;
    if (auto e = v.get_raw_json_string().get(consumed)) return e;
    s = in_place;
    return simdjson::SUCCESS;
  }

  bool check_string(std::string_view s, const char* at) noexcept {
    if (s.size() <= limits.max_string_bytes) return true;
    return fail(detail::string_too_long, at, {}, static_cast<std::int64_t>(limits.max_string_bytes));
  }

  // check_string() of a key just read, at the iterator's position (looked up only when the key is
  // too long: here() is not free).
  bool check_key(std::string_view key) noexcept {
    if (key.size() <= limits.max_string_bytes) return true;
    return check_string(key, here());
  }

  // A number, true, false or null token, which on-demand would otherwise skip unchecked.
  bool scalar_token(od::value& v, od::json_type t) noexcept {
    const std::string_view tok = trim_token(v.raw_json_token());
    if (!scalar_ok(t, tok)) return fail(detail::invalid_json, tok.data(), "invalid literal or number");
    return true;
  }

  // Validates any JSON value completely (on-demand would otherwise skip it unchecked).
  bool walk(od::value v, std::size_t depth) noexcept {
    od::json_type t{};
    if (auto e = v.type().get(t)) return fail_simdjson(e);
    if (depth > limits.max_depth && (t == od::json_type::object || t == od::json_type::array)) {
      return fail(detail::too_deep, token_start(v), {}, static_cast<std::int64_t>(limits.max_depth));
    }
    switch (t) {
      case od::json_type::object: {
        od::object o;
        if (auto e = v.get_object().get(o)) return fail_simdjson(e);
        for (auto f : o) {
          od::field fld;
          if (auto e = std::move(f).get(fld)) return fail_simdjson(e);
          std::string_view key;
          if (auto e = key_of(fld, key)) return fail_simdjson(e);
          if (!check_key(key)) return false;
          if (!walk(fld.value(), depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::array: {
        od::array a;
        if (auto e = v.get_array().get(a)) return fail_simdjson(e);
        for (auto el : a) {
          od::value ev;
          if (auto e = std::move(el).get(ev)) return fail_simdjson(e);
          if (!walk(ev, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        const char* at = token_start(v);
        std::string_view s;
        if (auto e = string_of(v, s)) return fail_simdjson(e);
        return check_string(s, at);
      }
      case od::json_type::number:
      case od::json_type::boolean:
      case od::json_type::null: return scalar_token(v, t);
    }
    return fail(detail::invalid_json, token_start(v), "unknown JSON value");
  }

  // walk() for a member of a contact object, with the common scalar values (names, flags)
  // checked here instead of in a call: the same checks, in the same order, as walk() makes.
  [[gnu::always_inline]] bool walk_member(od::value v, std::size_t depth) noexcept {
    if (const char* at = token_start(v); *at == '"') {  // a string, as in read_field()
      std::string_view s;
      if (auto e = string_of(v, s)) return fail_simdjson(e);
      return check_string(s, at);
    }
    od::json_type t{};
    if (auto e = v.type().get(t)) return fail_simdjson(e);
    switch (t) {
      case od::json_type::number:
      case od::json_type::boolean:
      case od::json_type::null: return scalar_token(v, t);
      default: return walk(v, depth);
    }
  }

  // Reads a contact field value: strings are kept, anything else is validated and marked
  // wrong_type.
  // A value's type is its first byte (value_iterator::type(), which fails only on a byte no
  // type starts with): a '"' is a string, anything else goes to walk(), which asks type() itself.
  bool read_field(od::value v, std::size_t depth, field_value& fv) noexcept {
    if (const char* at = token_start(v); *at == '"') {
      std::string_view s;
      if (auto e = string_of(v, s)) return fail_simdjson(e);
      if (!check_string(s, at)) return false;
      fv.kind = field_kind::string;
      fv.text = s;
      return true;
    }
    fv.kind = field_kind::wrong_type;
    fv.text = {};
    return walk(v, depth);
  }

  // After an object has been iterated to its end, find its closing brace: the iterator now
  // points at the next structural character (or the end of input).
  const char* object_end(const char* start) noexcept {
    const char* p = nullptr;
    if (doc->current_location().get(p) != simdjson::SUCCESS || p == nullptr || p > end) p = end;
    while (p > start && is_json_space(p[-1])) --p;
    return p;
  }

  static field_value* slot(contact_fields& c, known_key k) noexcept {
    switch (k) {
      case known_key::correlation_id: return &c.correlation_id;
      case known_key::contact_id: return &c.contact_id;
      case known_key::country_iso_code: return &c.country_iso_code;
      case known_key::zip_code: return &c.zip_code;
      case known_key::other: return nullptr;
    }
    return nullptr;
  }

  // One field of a contact object. `seen` tracks the four known keys (duplicate check).
  // Inlined into both loops: a call per field (its prologue, the on-demand iterator state
  // spilled around it) cost more than the work for a short string value.
  [[gnu::always_inline]] bool contact_member(od::field& fld, std::string_view key, std::size_t depth, contact_fields& c,
                                             unsigned& seen, const char* object_start) noexcept {
    const known_key k = classify(key);
    if (k == known_key::other) return walk_member(fld.value(), depth + 1);
    const unsigned bit = 1u << static_cast<unsigned>(k);
    if (seen & bit) return fail(detail::duplicate_key, object_start, name_of(k));
    seen |= bit;
    return read_field(fld.value(), depth + 1, *slot(c, k));
  }

  // A contact object at `depth`.
  bool contact(od::value v, std::size_t depth, std::uint32_t index) noexcept {
    const char* start = token_start(v);
    if (depth > limits.max_depth) {
      return fail(detail::too_deep, start, {}, static_cast<std::int64_t>(limits.max_depth));
    }
    od::object o;
    if (auto e = v.get_object().get(o)) return fail_simdjson(e);
    contact_fields c{};
    c.index = index;
    unsigned seen = 0;
    for (auto f : o) {
      od::field fld;
      if (auto e = std::move(f).get(fld)) return fail_simdjson(e);
      std::string_view key;
      if (auto e = key_of(fld, key)) return fail_simdjson(e);
      if (!check_key(key)) return false;
      if (!contact_member(fld, key, depth, c, seen, start)) return false;
    }
    const char* stop = object_end(start);
    c.raw = std::string_view(start, static_cast<std::size_t>(stop - start));
    out->push_back(c);
    return true;
  }

  // An array whose elements must all be contact objects.
  bool contact_array(od::array a, std::size_t depth, const char* array_start) noexcept {
    std::uint32_t index = 0;
    for (auto el : a) {
      od::value ev;
      if (auto e = std::move(el).get(ev)) return fail_simdjson(e);
      od::json_type t{};
      if (auto e = ev.type().get(t)) return fail_simdjson(e);
      if (t != od::json_type::object) return fail(detail::element_not_object, token_start(ev), {}, index);
      if (index >= limits.max_contacts) {
        return fail(detail::too_many_contacts, token_start(ev), {}, static_cast<std::int64_t>(limits.max_contacts));
      }
      if (!contact(ev, depth + 1, index)) return false;
      ++index;
    }
    if (index == 0) return fail(detail::no_contacts, array_start);
    return true;
  }

  // The root object: a single contact, or a bulk request when it has a "contacts" key.
  bool root_object(od::object o, const char* start) noexcept {
    contact_fields c{};
    unsigned seen = 0;
    bool bulk = false;
    for (auto f : o) {
      od::field fld;
      if (auto e = std::move(f).get(fld)) return fail_simdjson(e);
      std::string_view key;
      if (auto e = key_of(fld, key)) return fail_simdjson(e);
      if (!check_key(key)) return false;
      if (key == "contacts") {
        od::value v = fld.value();
        const char* vstart = token_start(v);
        if (bulk) return fail(detail::duplicate_key, vstart, "contacts");
        bulk = true;
        od::json_type t{};
        if (auto e = v.type().get(t)) return fail_simdjson(e);
        if (t != od::json_type::array) return fail(detail::contacts_not_array, vstart);
        if (limits.max_depth < 2)
          return fail(detail::too_deep, vstart, {}, static_cast<std::int64_t>(limits.max_depth));
        od::array a;
        if (auto e = v.get_array().get(a)) return fail_simdjson(e);
        if (!contact_array(a, 2, vstart)) return false;
        continue;
      }
      if (!contact_member(fld, key, 1, c, seen, start)) return false;
    }
    if (!bulk) {
      const char* stop = object_end(start);
      c.raw = std::string_view(start, static_cast<std::size_t>(stop - start));
      out->push_back(c);
    }
    return true;
  }

  bool run(std::string_view payload, bool padded) noexcept {
    if (read(payload, padded)) return true;
    // The error path. The simdjson pass stops at the first problem it meets, which may be a
    // contact-shape problem ("[1,]": an element that is not an object) before the rest of the
    // payload has been read. A payload that is not JSON must be INVALID_UTF8 / INVALID_JSON
    // whatever its shape, with an exact offset, so check the whole text strictly now. Valid
    // payloads never pay for this second pass.
    if (err->what == detail::too_large || err->what == detail::empty_payload) return false;
    json_problem p;
    if (!check_json(std::string_view(begin, static_cast<std::size_t>(end - begin)), check_stack, p)) {
      return fail(p.what, begin + p.offset, p.note);
    }
    return false;
  }

  // The fast path: one simdjson on-demand pass that reads the contacts and walks every
  // other value. False with *err set at the first problem found. `padded`: the caller's
  // payload is followed by SIMDJSON_PADDING readable bytes, so it is read in place.
  bool read(std::string_view payload, bool padded) noexcept {
    if (payload.size() > limits.max_payload_bytes) {
      return fail(detail::too_large, nullptr, {}, static_cast<std::int64_t>(limits.max_payload_bytes));
    }
    shift = 0;
    if (payload.substr(0, bom.size()) == bom) {  // RFC 8259 §8.1: a parser may ignore a BOM
      payload.remove_prefix(bom.size());
      shift = static_cast<std::int64_t>(bom.size());
    }
    std::size_t capacity = payload.size() + simdjson::SIMDJSON_PADDING;
    if (padded) {
      begin = payload.data();
    } else {
      if (capacity > cap) {
        buf = std::make_unique<char[]>(capacity);
        cap = capacity;
      }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"  // g++ 12 false positive: it assumes a size near SIZE_MAX
      std::memcpy(buf.get(), payload.data(), payload.size());
#pragma GCC diagnostic pop
      std::memset(buf.get() + payload.size(), 0, simdjson::SIMDJSON_PADDING);
      begin = buf.get();
      capacity = cap;
    }
    end = begin + payload.size();
    doc = nullptr;

    std::size_t first = 0;
    while (first < payload.size() && is_json_space(payload[first])) ++first;
    if (first == payload.size()) return fail(detail::empty_payload, nullptr);

    od::document d;
    if (auto e = parser.iterate(begin, payload.size(), capacity).get(d)) return fail_simdjson(e);
    doc = &d;
    od::json_type t{};
    if (auto e = d.type().get(t)) return fail_simdjson(e);
    bool ok = false;
    if (t == od::json_type::array) {
      od::array a;
      if (auto e = d.get_array().get(a)) return fail_simdjson(e);
      if (limits.max_depth < 1) return fail(detail::too_deep, begin + first, {}, 0);
      ok = contact_array(a, 1, begin + first);
    } else if (t == od::json_type::object) {
      od::object o;
      if (auto e = d.get_object().get(o)) return fail_simdjson(e);
      ok = root_object(o, begin + first);
    } else {
      // A scalar root (whether it is valid JSON is settled by run()).
      return fail(detail::root_not_container, begin + first);
    }
    if (!ok) return false;
    // Everything after the root value must be whitespace.
    const char* after = nullptr;
    if (d.current_location().get(after) == simdjson::SUCCESS && after != nullptr && after < end) {
      return fail(detail::invalid_json, after, "unexpected content after the JSON value");
    }
    return true;
  }

  bool parse(std::string_view payload, std::vector<contact_fields>& contacts, reason& malformed, bool padded) noexcept {
    contacts.clear();
    out = &contacts;
    err = &malformed;
    const bool ok = run(payload, padded);
    doc = nullptr;
    if (!ok) {
      contacts.clear();
      return false;
    }
    // Each contact's bytes as a view into the caller's payload rather than this parser's
    // padded copy, so they outlive the next parse (the pipeline produces them without a copy).
    for (contact_fields& c : contacts) {
      const std::size_t at = static_cast<std::size_t>(c.raw.data() - begin) + static_cast<std::size_t>(shift);
      c.raw = payload.substr(at, c.raw.size());
    }
    return true;
  }
};

payload_parser::payload_parser(payload_limits limits) : _impl(std::make_unique<impl>(limits)) {}
payload_parser::~payload_parser() = default;
payload_parser::payload_parser(payload_parser&&) noexcept = default;
payload_parser& payload_parser::operator=(payload_parser&&) noexcept = default;

const payload_limits& payload_parser::limits() const noexcept { return _impl->limits; }

bool payload_parser::parse(std::string_view payload, std::vector<contact_fields>& out, reason& malformed) noexcept {
  return _impl->parse(payload, out, malformed, false);
}

bool payload_parser::parse_padded(std::string_view payload, std::vector<contact_fields>& out,
                                  reason& malformed) noexcept {
  return _impl->parse(payload, out, malformed, true);
}

}  // namespace cg::parse
