// The regular-expression machinery of fast_phone_validator: a parser for libphonenumber's
// pattern subset, a multi-pattern DFA compiler (Thompson NFA -> subset construction -> Moore
// minimisation over a caller-defined output) and a backtracking prefix matcher with ICU's
// leftmost-first semantics. Build-time code throws std::runtime_error; the matchers used per
// number (run_dfa, prefix_matcher::looking_at) never throw or allocate.
#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "validate/phone_fast.h"

namespace cg::validate::phone_fast_detail {

namespace {

constexpr std::uint16_t all_digits = 0x3FF;

[[noreturn]] void fail(std::string_view pattern, std::size_t at, std::string_view what) {
  throw std::runtime_error("phone pattern '" + std::string(pattern) + "' at " + std::to_string(at) + ": " +
                           std::string(what));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Recursive-descent parser for the subset described in phone_fast.h (ICU syntax).
class parser {
 public:
  explicit parser(std::string_view p) : _p(p) {}

  regex_node parse_all() {
    regex_node n = alternation();
    if (_i != _p.size()) fail(_p, _i, "unbalanced ')'");
    return n;
  }
  int captures() const { return _captures; }

 private:
  bool at_end() const { return _i >= _p.size(); }
  char peek() const { return _p[_i]; }

  regex_node alternation() {
    std::vector<regex_node> branches;
    branches.push_back(concatenation());
    while (!at_end() && peek() == '|') {
      ++_i;
      branches.push_back(concatenation());
    }
    if (branches.size() == 1) return std::move(branches[0]);
    regex_node n;
    n.k = regex_node::kind::alt;
    n.kids = std::move(branches);
    return n;
  }

  regex_node concatenation() {
    std::vector<regex_node> items;
    while (!at_end() && peek() != '|' && peek() != ')') items.push_back(quantified());
    if (items.empty()) return regex_node{};
    if (items.size() == 1) return std::move(items[0]);
    regex_node n;
    n.k = regex_node::kind::concat;
    n.kids = std::move(items);
    return n;
  }

  int number() {
    if (at_end() || !is_digit(peek())) fail(_p, _i, "expected a number");
    int v = 0;
    while (!at_end() && is_digit(peek())) {
      v = v * 10 + (peek() - '0');
      if (v > 1000) fail(_p, _i, "repeat count too large");
      ++_i;
    }
    return v;
  }

  regex_node quantified() {
    regex_node atom_node = atom();
    for (;;) {
      if (at_end()) break;
      int lo = 0, hi = 0;
      const char c = peek();
      if (c == '?') {
        lo = 0, hi = 1, ++_i;
      } else if (c == '*') {
        lo = 0, hi = -1, ++_i;
      } else if (c == '+') {
        lo = 1, hi = -1, ++_i;
      } else if (c == '{') {
        ++_i;
        lo = number();
        hi = lo;
        if (!at_end() && peek() == ',') {
          ++_i;
          hi = (!at_end() && peek() == '}') ? -1 : number();
        }
        if (at_end() || peek() != '}') fail(_p, _i, "expected '}'");
        ++_i;
        if (hi >= 0 && hi < lo) fail(_p, _i, "bad repeat range");
      } else {
        break;
      }
      bool greedy = true;
      if (!at_end() && peek() == '?') {
        greedy = false;
        ++_i;
      } else if (!at_end() && peek() == '+') {
        fail(_p, _i, "possessive quantifiers are not supported");
      }
      regex_node r;
      r.k = regex_node::kind::repeat;
      r.min = lo;
      r.max = hi;
      r.greedy = greedy;
      r.kids.push_back(std::move(atom_node));
      atom_node = std::move(r);
    }
    return atom_node;
  }

  // One class item or escape; returns the digit set it denotes (non-digits denote nothing).
  std::uint16_t escape() {
    ++_i;  // backslash
    if (at_end()) fail(_p, _i, "dangling backslash");
    const char c = _p[_i++];
    if (c == 'd') return all_digits;
    if (c == 'D') return 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) fail(_p, _i - 1, "unsupported escape");
    return 0;  // an escaped punctuation character: a literal that no digit matches
  }

  static std::uint16_t range_set(unsigned char lo, unsigned char hi) {
    std::uint16_t s = 0;
    for (int d = 0; d < 10; ++d) {
      const unsigned char ch = static_cast<unsigned char>('0' + d);
      if (ch >= lo && ch <= hi) s = static_cast<std::uint16_t>(s | (1u << d));
    }
    return s;
  }

  std::uint16_t char_class() {
    ++_i;  // '['
    bool negate = false;
    if (!at_end() && peek() == '^') {
      negate = true;
      ++_i;
    }
    std::uint16_t set = 0;
    bool first = true;
    for (;;) {
      if (at_end()) fail(_p, _i, "unterminated class");
      const char c = peek();
      if (c == ']' && !first) {
        ++_i;
        break;
      }
      if (c == '[' || c == ']' || (c == '&' && _i + 1 < _p.size() && _p[_i + 1] == '&')) {
        fail(_p, _i, "nested classes and set operations are not supported");
      }
      first = false;
      if (c == '\\') {
        const std::size_t at = _i;
        if (_i + 1 < _p.size() && (_p[_i + 1] == 'd' || _p[_i + 1] == 'D')) {
          set = static_cast<std::uint16_t>(set | escape());
          continue;
        }
        (void)escape();
        const unsigned char lit = static_cast<unsigned char>(_p[at + 1]);
        set = static_cast<std::uint16_t>(set | range_set(lit, lit));
        continue;
      }
      ++_i;
      const unsigned char lo = static_cast<unsigned char>(c);
      if (!at_end() && peek() == '-' && _i + 1 < _p.size() && _p[_i + 1] != ']') {
        ++_i;
        if (peek() == '\\' || peek() == '[') fail(_p, _i, "unsupported range end");
        const unsigned char hi = static_cast<unsigned char>(_p[_i++]);
        if (hi < lo) fail(_p, _i, "bad class range");
        set = static_cast<std::uint16_t>(set | range_set(lo, hi));
      } else {
        set = static_cast<std::uint16_t>(set | range_set(lo, lo));
      }
    }
    return negate ? static_cast<std::uint16_t>(~set & all_digits) : set;
  }

  regex_node atom() {
    regex_node n;
    const char c = peek();
    switch (c) {
      case '(': {
        ++_i;
        int cap = 0;
        if (!at_end() && peek() == '?') {
          if (_i + 1 < _p.size() && _p[_i + 1] == ':') {
            _i += 2;
          } else {
            fail(_p, _i, "only (?:...) groups are supported");
          }
        } else {
          cap = ++_captures;
        }
        regex_node inner = alternation();
        if (at_end() || peek() != ')') fail(_p, _i, "expected ')'");
        ++_i;
        n.k = regex_node::kind::group;
        n.capture = cap;
        n.kids.push_back(std::move(inner));
        return n;
      }
      case '[':
        n.k = regex_node::kind::chars;
        n.chars = char_class();
        return n;
      case '\\':
        n.k = regex_node::kind::chars;
        n.chars = escape();
        return n;
      case '.':
        ++_i;
        n.k = regex_node::kind::chars;
        n.chars = all_digits;
        return n;
      case '^':
        ++_i;
        n.k = regex_node::kind::line_begin;
        return n;
      case '$':
        ++_i;
        n.k = regex_node::kind::line_end;
        return n;
      case '*':
      case '+':
      case '?':
      case '{': fail(_p, _i, "quantifier without operand");
      default:
        ++_i;
        n.k = regex_node::kind::chars;
        n.chars = is_digit(c) ? static_cast<std::uint16_t>(1u << (c - '0')) : 0;
        return n;
    }
  }

  std::string_view _p;
  std::size_t _i{0};
  int _captures{0};
};

bool nullable(const regex_node& n) {
  switch (n.k) {
    case regex_node::kind::empty:
    case regex_node::kind::line_begin:
    case regex_node::kind::line_end: return true;
    case regex_node::kind::chars: return false;
    case regex_node::kind::concat:
      return std::all_of(n.kids.begin(), n.kids.end(), [](const regex_node& k) { return nullable(k); });
    case regex_node::kind::alt:
      return std::any_of(n.kids.begin(), n.kids.end(), [](const regex_node& k) { return nullable(k); });
    case regex_node::kind::repeat: return n.min == 0 || n.max == 0 || nullable(n.kids[0]);
    case regex_node::kind::group: return nullable(n.kids[0]);
  }
  return true;
}

}  // namespace

regex_node parse_regex(std::string_view pattern, int* captures) {
  parser p(pattern);
  regex_node n = p.parse_all();
  if (captures) *captures = p.captures();
  return n;
}

// ---------------------------------------------------------------------------------------------
// DFA compiler
// ---------------------------------------------------------------------------------------------

struct dfa_builder::impl {
  struct nstate {
    std::uint16_t chars{0};  // non-zero: a digit edge to `to`
    std::uint32_t to{0};
    int tag{-1};
    std::vector<std::uint32_t> eps;
  };
  std::vector<nstate> states{nstate{}};  // state 0: the common start
  int tags{0};

  std::uint32_t make() {
    states.emplace_back();
    return static_cast<std::uint32_t>(states.size() - 1);
  }
  void eps(std::uint32_t from, std::uint32_t to) { states[from].eps.push_back(to); }

  // Adds the fragment of `n` starting at `from`; returns its end. Loops only ever jump back to
  // states created inside the fragment, so fragments can be chained freely.
  std::uint32_t build(const regex_node& n, std::uint32_t from) {
    switch (n.k) {
      case regex_node::kind::empty: return from;
      case regex_node::kind::chars: {
        const std::uint32_t t = make();
        const std::uint32_t a = make();
        states[a].chars = n.chars;
        states[a].to = t;
        eps(from, a);
        return t;
      }
      case regex_node::kind::concat: {
        std::uint32_t cur = from;
        for (const auto& k : n.kids) cur = build(k, cur);
        return cur;
      }
      case regex_node::kind::alt: {
        const std::uint32_t t = make();
        for (const auto& k : n.kids) {
          const std::uint32_t s = make();
          eps(from, s);
          eps(build(k, s), t);
        }
        return t;
      }
      case regex_node::kind::group: return build(n.kids[0], from);
      case regex_node::kind::repeat: {
        const regex_node& body = n.kids[0];
        std::uint32_t cur = from;
        for (int i = 0; i < n.min; ++i) {
          const std::uint32_t s = make();
          eps(cur, s);
          cur = build(body, s);
        }
        if (n.max < 0) {
          const std::uint32_t loop = make();
          eps(cur, loop);
          const std::uint32_t s = make();
          eps(loop, s);
          eps(build(body, s), loop);
          const std::uint32_t out = make();
          eps(loop, out);
          return out;
        }
        for (int i = n.min; i < n.max; ++i) {
          const std::uint32_t end = make();
          eps(cur, end);
          const std::uint32_t s = make();
          eps(cur, s);
          eps(build(body, s), end);
          cur = end;
        }
        return cur;
      }
      case regex_node::kind::line_begin:
      case regex_node::kind::line_end: throw std::runtime_error("anchors are not supported in number patterns");
    }
    return from;
  }
};

dfa_builder::dfa_builder() : _impl(std::make_unique<impl>()) {}
dfa_builder::~dfa_builder() = default;

int dfa_builder::add(const regex_node& pattern, bool prefix) {
  impl& m = *_impl;
  const std::uint32_t s = m.make();
  m.eps(0, s);
  std::uint32_t end = m.build(pattern, s);
  if (prefix) {  // pattern followed by \d*: "some prefix matches" as a whole-input match
    const std::uint32_t loop = m.make();
    m.eps(end, loop);
    const std::uint32_t a = m.make();
    m.states[a].chars = all_digits;
    m.states[a].to = loop;
    m.eps(loop, a);
    end = loop;
  }
  const std::uint32_t accept = m.make();
  m.eps(end, accept);
  m.states[accept].tag = m.tags;
  return m.tags++;
}

namespace {

struct vec_hash {
  std::size_t operator()(const std::vector<std::uint32_t>& v) const noexcept {
    std::uint64_t h = 1469598103934665603ull;
    for (std::uint32_t x : v) {
      h ^= x;
      h *= 1099511628211ull;
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

}  // namespace

std::uint32_t dfa_builder::build(const std::function<std::uint32_t(const std::vector<int>&)>& signature,
                                 std::vector<std::uint32_t>& cells, std::size_t max_states) {
  const impl& m = *_impl;
  const std::size_t nn = m.states.size();
  // Only states with a digit edge or a tag are kept in subset keys (the rest are epsilon glue).
  std::vector<std::uint32_t> mark(nn, 0);
  std::uint32_t generation = 0;
  std::vector<std::uint32_t> stack;
  auto closure = [&](const std::vector<std::uint32_t>& seeds) {
    ++generation;
    std::vector<std::uint32_t> out;
    stack.assign(seeds.begin(), seeds.end());
    while (!stack.empty()) {
      const std::uint32_t s = stack.back();
      stack.pop_back();
      if (mark[s] == generation) continue;
      mark[s] = generation;
      const auto& st = m.states[s];
      if (st.chars != 0 || st.tag >= 0) out.push_back(s);
      for (std::uint32_t e : st.eps) {
        if (mark[e] != generation) stack.push_back(e);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };

  std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, vec_hash> ids;
  std::vector<std::vector<std::uint32_t>> sets;
  std::vector<std::uint32_t> next;  // subset DFA: 10 successors per state
  auto intern = [&](std::vector<std::uint32_t>&& set) {
    auto [it, fresh] = ids.try_emplace(set, static_cast<std::uint32_t>(sets.size()));
    if (fresh) {
      if (sets.size() >= max_states) throw std::runtime_error("phone automaton too large");
      sets.push_back(std::move(set));
    }
    return it->second;
  };
  intern(closure({0}));
  std::vector<std::uint32_t> seeds;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    std::uint32_t row[10];
    for (int d = 0; d < 10; ++d) {
      seeds.clear();
      for (std::uint32_t s : sets[i]) {
        const auto& st = m.states[s];
        if ((st.chars >> d) & 1u) seeds.push_back(st.to);
      }
      row[d] = intern(closure(seeds));
    }
    next.insert(next.end(), row, row + 10);
  }
  const std::size_t n = sets.size();

  // Outputs, one per subset state (memoised on the accepted tag set).
  std::map<std::vector<int>, std::uint32_t> sig_memo;
  std::vector<std::uint32_t> out(n);
  std::vector<int> tags;
  for (std::size_t i = 0; i < n; ++i) {
    tags.clear();
    for (std::uint32_t s : sets[i]) {
      if (m.states[s].tag >= 0) tags.push_back(m.states[s].tag);
    }
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    auto it = sig_memo.find(tags);
    if (it == sig_memo.end()) it = sig_memo.emplace(tags, signature(tags)).first;
    out[i] = it->second;
  }

  // Moore minimisation: start from the partition by output, refine by successor classes.
  std::vector<std::uint32_t> cls(n);
  std::size_t classes = 0;
  {
    std::unordered_map<std::uint32_t, std::uint32_t> by_out;
    for (std::size_t i = 0; i < n; ++i) {
      auto [it, fresh] = by_out.try_emplace(out[i], static_cast<std::uint32_t>(by_out.size()));
      cls[i] = it->second;
    }
    classes = by_out.size();
  }
  for (;;) {
    std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, vec_hash> keyed;
    std::vector<std::uint32_t> refined(n);
    std::vector<std::uint32_t> key(11);
    for (std::size_t i = 0; i < n; ++i) {
      key[0] = cls[i];
      for (int d = 0; d < 10; ++d) key[1 + d] = cls[next[i * 10 + d]];
      auto [it, fresh] = keyed.try_emplace(key, static_cast<std::uint32_t>(keyed.size()));
      refined[i] = it->second;
    }
    const std::size_t now = keyed.size();
    cls.swap(refined);
    if (now == classes) break;
    classes = now;
  }

  // Emit the minimal DFA, numbered in breadth-first order from the start (locality).
  std::vector<std::uint32_t> order(classes, UINT32_MAX);
  std::vector<std::uint32_t> repr(classes, 0);
  for (std::size_t i = 0; i < n; ++i) repr[cls[i]] = static_cast<std::uint32_t>(i);
  std::vector<std::uint32_t> queue{cls[0]};
  order[cls[0]] = 0;
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const std::uint32_t c = queue[q];
    for (int d = 0; d < 10; ++d) {
      const std::uint32_t t = cls[next[repr[c] * 10 + d]];
      if (order[t] == UINT32_MAX) {
        order[t] = static_cast<std::uint32_t>(queue.size());
        queue.push_back(t);
      }
    }
  }
  const std::size_t base = cells.size();
  if (base + queue.size() * dfa_row > UINT32_MAX) throw std::runtime_error("phone automata too large");
  cells.resize(base + queue.size() * dfa_row, 0);
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const std::uint32_t c = queue[q];
    std::uint32_t* row = &cells[base + q * dfa_row];
    for (int d = 0; d < 10; ++d) {
      row[d] = static_cast<std::uint32_t>(base + order[cls[next[repr[c] * 10 + d]]] * dfa_row);
    }
    row[dfa_signature_cell] = out[repr[c]];
  }
  return static_cast<std::uint32_t>(base);
}

// ---------------------------------------------------------------------------------------------
// Backtracking prefix matcher
// ---------------------------------------------------------------------------------------------

prefix_matcher::prefix_matcher(std::string_view pattern) {
  int captures = 0;
  const regex_node root = parse_regex(pattern, &captures);
  if (captures > max_groups) fail(pattern, 0, "too many capture groups");
  _groups = captures;
  emit(root);
  _prog.push_back(instr{instr::op::match, 0, 0, 0});
}

void prefix_matcher::emit(const regex_node& n) {
  using op = instr::op;
  auto here = [&] { return static_cast<std::int32_t>(_prog.size()); };
  switch (n.k) {
    case regex_node::kind::empty: return;
    case regex_node::kind::chars: _prog.push_back(instr{op::chars, n.chars, 0, 0}); return;
    case regex_node::kind::line_begin: _prog.push_back(instr{op::line_begin, 0, 0, 0}); return;
    case regex_node::kind::line_end: _prog.push_back(instr{op::line_end, 0, 0, 0}); return;
    case regex_node::kind::concat:
      for (const auto& k : n.kids) emit(k);
      return;
    case regex_node::kind::group:
      if (n.capture == 0) {
        emit(n.kids[0]);
        return;
      }
      _prog.push_back(instr{op::save, 0, 2 * n.capture, 0});
      emit(n.kids[0]);
      _prog.push_back(instr{op::save, 0, 2 * n.capture + 1, 0});
      return;
    case regex_node::kind::alt: {
      std::vector<std::int32_t> jumps;
      for (std::size_t b = 0; b + 1 < n.kids.size(); ++b) {
        const std::int32_t split = here();
        _prog.push_back(instr{op::split, 0, split + 1, 0});
        emit(n.kids[b]);
        jumps.push_back(here());
        _prog.push_back(instr{op::jump, 0, 0, 0});
        _prog[static_cast<std::size_t>(split)].y = here();
      }
      emit(n.kids.back());
      for (std::int32_t j : jumps) _prog[static_cast<std::size_t>(j)].x = here();
      return;
    }
    case regex_node::kind::repeat: {
      const regex_node& body = n.kids[0];
      for (int i = 0; i < n.min; ++i) emit(body);
      if (n.max < 0) {
        if (nullable(body)) throw std::runtime_error("unbounded repeat of an empty-matching group");
        const std::int32_t loop = here();
        _prog.push_back(instr{op::split, 0, 0, 0});
        emit(body);
        _prog.push_back(instr{op::jump, 0, loop, 0});
        instr& s = _prog[static_cast<std::size_t>(loop)];
        s.x = n.greedy ? loop + 1 : here();
        s.y = n.greedy ? here() : loop + 1;
        return;
      }
      // x{0,k}: split(x, out) x split(x, out) x ... out  (greedy: take first)
      std::vector<std::int32_t> splits;
      for (int i = n.min; i < n.max; ++i) {
        splits.push_back(here());
        _prog.push_back(instr{op::split, 0, 0, 0});
        emit(body);
      }
      for (std::int32_t s : splits) {
        instr& in = _prog[static_cast<std::size_t>(s)];
        in.x = n.greedy ? s + 1 : here();
        in.y = n.greedy ? here() : s + 1;
      }
      return;
    }
  }
}

bool prefix_matcher::run(int pc, int sp, std::string_view s, int* slots, int& end) const noexcept {
  using op = instr::op;
  const int n = static_cast<int>(s.size());
  for (;;) {
    const instr& in = _prog[static_cast<std::size_t>(pc)];
    switch (in.o) {
      case op::chars: {
        if (sp >= n) return false;
        const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(s[static_cast<std::size_t>(sp)]) - '0');
        if (d > 9 || ((in.chars >> d) & 1u) == 0) return false;
        ++pc;
        ++sp;
        continue;
      }
      case op::match: end = sp; return true;
      case op::jump: pc = in.x; continue;
      case op::split:
        if (run(in.x, sp, s, slots, end)) return true;
        pc = in.y;
        continue;
      case op::save: {
        const int old = slots[in.x];
        slots[in.x] = sp;
        if (run(pc + 1, sp, s, slots, end)) return true;
        slots[in.x] = old;
        return false;
      }
      case op::line_begin:
        if (sp != 0) return false;
        ++pc;
        continue;
      case op::line_end:
        if (sp != n) return false;
        ++pc;
        continue;
    }
    return false;
  }
}

bool prefix_matcher::looking_at(std::string_view s, match& m) const noexcept {
  int slots[2 * (max_groups + 1)];
  std::fill(std::begin(slots), std::end(slots), -1);
  int end = -1;
  if (_prog.empty() || !run(0, 0, s, slots, end)) {
    m.end = -1;
    return false;
  }
  m.end = end;
  m.begin[0] = 0;
  m.end_of[0] = end;
  for (int g = 1; g <= max_groups; ++g) {
    const bool set = g <= _groups && slots[2 * g] >= 0 && slots[2 * g + 1] >= 0;
    m.begin[g] = set ? slots[2 * g] : -1;
    m.end_of[g] = set ? slots[2 * g + 1] : -1;
  }
  return true;
}

}  // namespace cg::validate::phone_fast_detail
