#include "parse/json_check.h"

#include "core/utf8.h"

namespace cg::parse {

namespace {

// An explicit stack of open containers (one bit each: 1 = object) instead of recursion, so
// that a payload of a million '[' is checked in constant native stack.
class bit_stack {
 public:
  explicit bit_stack(std::span<std::uint64_t> words) noexcept : _words(words) {}
  [[nodiscard]] bool push(bool object) noexcept {
    const std::size_t w = _size / 64;
    if (w >= _words.size()) return false;
    const std::uint64_t bit = std::uint64_t{1} << (_size % 64);
    if (object) {
      _words[w] |= bit;
    } else {
      _words[w] &= ~bit;
    }
    ++_size;
    return true;
  }
  void pop() noexcept { --_size; }
  [[nodiscard]] bool empty() const noexcept { return _size == 0; }
  [[nodiscard]] bool top_is_object() const noexcept {
    const std::size_t i = _size - 1;
    return ((_words[i / 64] >> (i % 64)) & 1u) != 0;
  }

 private:
  std::span<std::uint64_t> _words;
  std::size_t _size{0};
};

bool is_space(unsigned char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The encoding a text starts with when it is not UTF-8, else empty: a UTF-16/32 byte order
// mark, or the NUL-byte patterns of RFC 4627 section 3 (JSON starts with two ASCII
// characters, so in UTF-16/32 the first four bytes show where the NULs fall). The NUL
// patterns also require a length that fits the encoding, so that "[\0]" stays a NUL byte
// in a UTF-8 text. No JSON text holds a NUL byte, so this never rejects valid JSON.
std::string_view foreign_encoding(std::string_view t) noexcept {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(t[i]); };
  const std::size_t n = t.size();
  if (n >= 4 && b(0) == 0x00 && b(1) == 0x00 && b(2) == 0xFE && b(3) == 0xFF)
    return "it looks like UTF-32BE (byte order mark 00 00 FE FF); JSON must be UTF-8 (RFC 8259 section 8.1)";
  if (n >= 4 && b(0) == 0xFF && b(1) == 0xFE && b(2) == 0x00 && b(3) == 0x00)
    return "it looks like UTF-32LE (byte order mark FF FE 00 00); JSON must be UTF-8 (RFC 8259 section 8.1)";
  if (n >= 2 && b(0) == 0xFE && b(1) == 0xFF)
    return "it looks like UTF-16BE (byte order mark FE FF); JSON must be UTF-8 (RFC 8259 section 8.1)";
  if (n >= 2 && b(0) == 0xFF && b(1) == 0xFE)
    return "it looks like UTF-16LE (byte order mark FF FE); JSON must be UTF-8 (RFC 8259 section 8.1)";
  if (n >= 4 && n % 4 == 0) {
    if (b(0) == 0 && b(1) == 0 && b(2) == 0 && b(3) != 0)
      return "it looks like UTF-32BE (NUL bytes 00 00 00 xx); JSON must be UTF-8 (RFC 8259 section 8.1)";
    if (b(0) != 0 && b(1) == 0 && b(2) == 0 && b(3) == 0)
      return "it looks like UTF-32LE (NUL bytes xx 00 00 00); JSON must be UTF-8 (RFC 8259 section 8.1)";
  }
  if (n >= 2 && n % 2 == 0) {
    const bool four = n >= 4;
    if (b(0) == 0 && b(1) != 0 && (!four || (b(2) == 0 && b(3) != 0)))
      return "it looks like UTF-16BE (NUL bytes 00 xx 00 xx); JSON must be UTF-8 (RFC 8259 section 8.1)";
    if (b(0) != 0 && b(1) == 0 && (!four || (b(2) != 0 && b(3) == 0)))
      return "it looks like UTF-16LE (NUL bytes xx 00 xx 00); JSON must be UTF-8 (RFC 8259 section 8.1)";
  }
  return {};
}

class checker {
 public:
  checker(std::string_view t, std::span<std::uint64_t> stack, json_problem& p) noexcept
      : _p(reinterpret_cast<const unsigned char*>(t.data())), _n(t.size()), _stack(stack), _problem(p) {}

  bool run() noexcept {
    skip_space();
    if (_i == _n) return fail(_i, "the payload holds no JSON value");
    for (;;) {
      if (!value()) return false;
      // After a value: close containers or go on to the next element or member.
      for (;;) {
        skip_space();
        if (_stack.empty()) {
          if (_i < _n) return fail(_i, "unexpected content after the complete JSON value");
          return true;
        }
        const bool object = _stack.top_is_object();
        if (_i == _n) {
          return fail(_i, object ? "the payload ends inside an object (expected ',' or '}')"
                                 : "the payload ends inside an array (expected ',' or ']')");
        }
        const unsigned char c = _p[_i];
        if (c == (object ? '}' : ']')) {
          _stack.pop();
          ++_i;
          continue;
        }
        if (c != ',') {
          return fail(
              _i, object ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array element");
        }
        ++_i;
        skip_space();
        if (object && !member_key()) return false;
        if (!object && _i < _n && _p[_i] == ']') return fail(_i, "expected a value after ',' (a trailing comma)");
        break;  // to the next value
      }
    }
  }

 private:
  bool fail(std::size_t at, std::string_view note, detail what = detail::invalid_json) noexcept {
    _problem.what = what;
    _problem.offset = at;
    _problem.note = note;
    return false;
  }

  void skip_space() noexcept {
    while (_i < _n && is_space(_p[_i])) ++_i;
  }

  // At a key's opening quote (after '{' or ','): the key, then ':', then space.
  bool member_key() noexcept {
    if (_i == _n) return fail(_i, "the payload ends inside an object (expected a string key)");
    if (_p[_i] == '}') return fail(_i, "expected a member after ',' (a trailing comma)");
    if (_p[_i] != '"') return fail(_i, "expected a string key (in double quotes)");
    if (!string()) return false;
    skip_space();
    if (_i == _n) return fail(_i, "the payload ends inside an object (expected ':')");
    if (_p[_i] != ':') return fail(_i, "expected ':' after an object key");
    ++_i;
    skip_space();
    return true;
  }

  // One value at _i (space already skipped). Containers are opened here and closed by run().
  bool value() noexcept {
    for (;;) {
      if (_i == _n) return fail(_i, "the payload ends where a value was expected");
      const unsigned char c = _p[_i];
      switch (c) {
        case '{':
        case '[': {
          const bool object = c == '{';
          if (!_stack.push(object)) return fail(_i, "nesting stack too small for this payload");
          ++_i;
          skip_space();
          if (_i < _n && _p[_i] == (object ? '}' : ']')) {  // empty container
            _stack.pop();
            ++_i;
            return true;
          }
          if (object) {
            if (_i < _n && _p[_i] == ',') return fail(_i, "expected a string key or '}'");
            if (!member_key()) return false;
          } else if (_i < _n && _p[_i] == ',') {
            return fail(_i, "expected a value or ']' (a comma with no element before it)");
          }
          continue;  // the first element or member value
        }
        case '"': return string();
        case 't': return literal("true");
        case 'f': return literal("false");
        case 'n': return literal("null");
        default:
          if (c == '-' || is_digit(c)) return number();
          if (c == 0) return fail(_i, "a NUL byte where a value was expected");
          return fail(_i, "expected a value (object, array, string, number, true, false or null)");
      }
    }
  }

  bool literal(std::string_view word) noexcept {
    for (std::size_t k = 0; k < word.size(); ++k) {
      if (_i + k >= _n || _p[_i + k] != static_cast<unsigned char>(word[k])) {
        return fail(_i, "invalid literal (expected true, false or null)");
      }
    }
    _i += word.size();
    return true;
  }

  // RFC 8259 number grammar, any size. Errors point at the number's first byte.
  bool number() noexcept {
    const std::size_t start = _i;
    if (_p[_i] == '-') ++_i;
    if (_i == _n || !is_digit(_p[_i])) return fail(start, "invalid number: a digit must follow '-'");
    if (_p[_i] == '0') {
      ++_i;
      if (_i < _n && is_digit(_p[_i])) return fail(start, "invalid number: leading zero");
    } else {
      while (_i < _n && is_digit(_p[_i])) ++_i;
    }
    if (_i < _n && _p[_i] == '.') {
      ++_i;
      if (_i == _n || !is_digit(_p[_i])) return fail(start, "invalid number: a digit must follow '.'");
      while (_i < _n && is_digit(_p[_i])) ++_i;
    }
    if (_i < _n && (_p[_i] == 'e' || _p[_i] == 'E')) {
      ++_i;
      if (_i < _n && (_p[_i] == '+' || _p[_i] == '-')) ++_i;
      if (_i == _n || !is_digit(_p[_i])) return fail(start, "invalid number: the exponent has no digits");
      while (_i < _n && is_digit(_p[_i])) ++_i;
    }
    return true;
  }

  // Four hex digits after "\u" at _i; the code unit in `unit`.
  bool hex4(std::size_t escape_start, unsigned& unit) noexcept {
    unit = 0;
    for (int k = 0; k < 4; ++k) {
      if (_i == _n) return fail(_n, "the payload ends inside a string");
      const int h = hex_value(_p[_i]);
      if (h < 0) return fail(escape_start, "invalid \\u escape: it needs four hexadecimal digits");
      unit = unit * 16 + static_cast<unsigned>(h);
      ++_i;
    }
    return true;
  }

  // A string at its opening quote. UTF-8 is already checked for the whole text.
  bool string() noexcept {
    ++_i;
    for (;;) {
      if (_i == _n) return fail(_n, "the payload ends inside a string");
      const unsigned char c = _p[_i];
      if (c == '"') {
        ++_i;
        return true;
      }
      if (c < 0x20) {
        return fail(_i, c == 0 ? "a NUL byte inside a string (write it as \\u0000)"
                               : "an unescaped control character inside a string (write it as an escape)");
      }
      if (c != '\\') {
        ++_i;
        continue;
      }
      const std::size_t escape_start = _i;
      ++_i;
      if (_i == _n) return fail(_n, "the payload ends inside a string");
      switch (_p[_i]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': ++_i; continue;
        case 'u': break;
        default: return fail(escape_start, "invalid escape (JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
      ++_i;
      unsigned unit = 0;
      if (!hex4(escape_start, unit)) return false;
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return fail(escape_start, "\\u escape of a lone UTF-16 low surrogate (it encodes no character)");
      }
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (_i + 1 < _n && _p[_i] == '\\' && _p[_i + 1] == 'u') {
          const std::size_t second = _i;
          _i += 2;
          unsigned low = 0;
          if (!hex4(second, low)) return false;
          if (low >= 0xDC00 && low <= 0xDFFF) continue;
        }
        return fail(escape_start, "\\u escape of a lone UTF-16 high surrogate (it encodes no character)");
      }
    }
  }

  const unsigned char* _p;
  std::size_t _n;
  std::size_t _i{0};
  bit_stack _stack;
  json_problem& _problem;
};

}  // namespace

bool check_json(std::string_view text, std::span<std::uint64_t> stack, json_problem& problem) noexcept {
  if (const std::string_view enc = foreign_encoding(text); !enc.empty()) {
    problem = json_problem{detail::invalid_utf8, 0, enc};
    return false;
  }
  if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    problem = json_problem{detail::invalid_utf8, bad, {}};
    return false;
  }
  return checker(text, stack, problem).run();
}

}  // namespace cg::parse
