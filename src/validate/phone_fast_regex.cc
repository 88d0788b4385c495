// The regular-expression machinery of fast_phone_validator: a parser for libphonenumber's
// pattern subset, a multi-pattern DFA compiler (Thompson NFA -> subset construction -> Moore
// minimisation over a caller-defined output) and a backtracking prefix matcher with ICU's
// leftmost-first semantics. Build-time code throws std::runtime_error; the matchers used per
// number (run_dfa, prefix_matcher::looking_at) never throw or allocate.
#include <algorithm>
#include <bit>
#include <cstring>
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
  static constexpr std::uint32_t none = UINT32_MAX;
  struct nstate {
    std::uint16_t chars{0};  // non-zero: a digit edge to `to`
    std::uint32_t to{0};
    int tag{-1};
    std::uint32_t eps_head{none};  // first epsilon edge in `edges`, none: no epsilon edge
  };
  // Epsilon edges of all states in one array, as per-state singly linked lists: a vector per
  // state cost an allocation for each of the many thousand states of a calling code's NFA.
  struct edge {
    std::uint32_t to;
    std::uint32_t next;
  };
  std::vector<nstate> states{nstate{}};  // state 0: the common start
  std::vector<edge> edges;
  int tags{0};

  std::uint32_t make() {
    states.emplace_back();
    return static_cast<std::uint32_t>(states.size() - 1);
  }
  void eps(std::uint32_t from, std::uint32_t to) {
    edges.push_back(edge{to, states[from].eps_head});
    states[from].eps_head = static_cast<std::uint32_t>(edges.size() - 1);
  }

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

// Hash of a short array of small integers: independent products summed (no serial multiply
// chain, so the key's cells are hashed in parallel), then murmur3's finaliser.
std::uint64_t hash_cells(const std::uint32_t* p, std::size_t n) noexcept {
  std::uint64_t h = n * 0x9E3779B97F4A7C15ull;
  for (std::size_t i = 0; i < n; ++i) h += (p[i] + 0x632BE59BD9B4E019ull * (i + 1)) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

// Sorts a short run of state numbers; the runs sorted here hold a handful of elements, where an
// insertion sort beats std::sort's introsort set-up.
void sort_small(std::uint32_t* first, std::uint32_t* last) noexcept {
  if (last - first > 24) {
    std::sort(first, last);
    return;
  }
  for (std::uint32_t* i = first + (first != last); i < last; ++i) {
    const std::uint32_t v = *i;
    std::uint32_t* j = i;
    for (; j > first && *(j - 1) > v; --j) *j = *(j - 1);
    *j = v;
  }
}

// Interns sorted NFA state sets as dense ids (0, 1, ... in first-seen order). The sets live
// back to back in one array and the index is open-addressed over ids, so interning costs no
// allocation per set (the vector-keyed unordered_map copied every key twice).
class set_interner {
 public:
  explicit set_interner(std::size_t max_sets) : _max(max_sets), _slots(1024, 0) {}

  std::size_t size() const noexcept { return _off.size() - 1; }
  const std::uint32_t* begin(std::size_t id) const noexcept { return _pool.data() + _off[id]; }
  const std::uint32_t* end(std::size_t id) const noexcept { return _pool.data() + _off[id + 1]; }

  // `p` must not point into this interner (the pool may grow).
  std::uint32_t intern(const std::uint32_t* p, std::size_t n) {
    const std::uint64_t h = hash_cells(p, n);
    std::size_t mask = _slots.size() - 1;
    std::size_t j = static_cast<std::size_t>(h) & mask;
    for (; _slots[j] != 0; j = (j + 1) & mask) {
      const std::uint32_t id = _slots[j] - 1;
      if (_hashes[id] == h && _off[id + 1] - _off[id] == n && std::equal(p, p + n, _pool.data() + _off[id])) return id;
    }
    const std::size_t id = size();
    if (id >= _max) throw std::runtime_error("phone automaton too large");
    _pool.insert(_pool.end(), p, p + n);
    _off.push_back(static_cast<std::uint32_t>(_pool.size()));
    _hashes.push_back(h);
    _slots[j] = static_cast<std::uint32_t>(id + 1);
    if (2 * size() > _slots.size()) grow();
    return static_cast<std::uint32_t>(id);
  }

 private:
  void grow() {
    _slots.assign(_slots.size() * 2, 0);
    const std::size_t mask = _slots.size() - 1;
    for (std::size_t id = 0; id < size(); ++id) {
      std::size_t j = static_cast<std::size_t>(_hashes[id]) & mask;
      while (_slots[j] != 0) j = (j + 1) & mask;
      _slots[j] = static_cast<std::uint32_t>(id + 1);
    }
  }

  std::size_t _max;
  std::vector<std::uint32_t> _pool;
  std::vector<std::uint32_t> _off{0};  // set id: _pool[_off[id], _off[id + 1])
  std::vector<std::uint64_t> _hashes;  // per set id
  std::vector<std::uint32_t> _slots;   // set id + 1, 0: empty; a power of two, at most half full
};

}  // namespace

std::uint32_t dfa_builder::build(const std::function<std::uint32_t(const std::vector<int>&)>& signature,
                                 std::vector<std::uint32_t>& cells, std::size_t max_states) {
  constexpr std::uint32_t none = UINT32_MAX;
  const impl& m = *_impl;
  const std::size_t nn = m.states.size();
  // Only key states (a digit edge or a tag) are kept in subsets; the rest are epsilon glue.
  // Key states get dense numbers in NFA order (so sorted sets stay sorted the same way), and the
  // subset construction below only touches these small dense arrays.
  std::vector<std::uint32_t> dense(nn, none);
  std::vector<std::uint16_t> chars;  // per key state
  std::vector<int> tag_of;           // per key state
  for (std::size_t s = 0; s < nn; ++s) {
    const auto& st = m.states[s];
    if (st.chars == 0 && st.tag < 0) continue;
    dense[s] = static_cast<std::uint32_t>(chars.size());
    chars.push_back(st.chars);
    tag_of.push_back(st.tag);
  }
  const std::size_t nk = chars.size();

  // The epsilon closure behind each digit edge, computed once per key state instead of once
  // per subset state and digit: succ(a) = the sorted key states of closure(a.to).
  std::vector<std::uint32_t> mark(nn, 0);
  std::uint32_t generation = 0;
  std::vector<std::uint32_t> stack;
  auto close_into = [&](std::uint32_t seed, std::vector<std::uint32_t>& out) {
    ++generation;
    const std::size_t from = out.size();
    stack.assign(1, seed);
    while (!stack.empty()) {
      const std::uint32_t s = stack.back();
      stack.pop_back();
      if (mark[s] == generation) continue;
      mark[s] = generation;
      if (dense[s] != none) out.push_back(dense[s]);
      for (std::uint32_t e = m.states[s].eps_head; e != impl::none; e = m.edges[e].next) {
        if (mark[m.edges[e].to] != generation) stack.push_back(m.edges[e].to);
      }
    }
    sort_small(out.data() + from, out.data() + out.size());
  };
  std::vector<std::uint32_t> succ;             // all succ lists back to back
  std::vector<std::uint32_t> succ_at(nk + 1);  // succ(a) = succ[succ_at[a], succ_at[a + 1])
  for (std::size_t s = 0; s < nn; ++s) {
    if (dense[s] == none) continue;
    if (m.states[s].chars != 0) close_into(m.states[s].to, succ);
    succ_at[dense[s] + 1] = static_cast<std::uint32_t>(succ.size());
  }

  set_interner sets(max_states);
  std::vector<std::uint32_t> next;  // subset DFA: 10 successors per state
  {
    std::vector<std::uint32_t> start;
    close_into(0, start);
    sets.intern(start.data(), start.size());
  }
  // Per key state, the id of its succ set once interned: a subset state whose digit d leaves
  // through a single edge (the common case) then costs no hashing at all.
  std::vector<std::uint32_t> succ_id(nk, none);
  std::uint32_t empty_id = none;
  std::vector<std::uint32_t> kmark(nk, 0);  // union marks, over key states
  std::uint32_t kgeneration = 0;
  std::vector<std::uint32_t> cur;
  std::vector<std::uint64_t> cols;  // digit d: bit k of word w set when cur[64 w + k] has d
  std::vector<std::uint32_t> cand;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    cur.assign(sets.begin(i), sets.end(i));  // interning below may move the pool
    const std::size_t words = (cur.size() + 63) / 64;
    cols.assign(10 * words, 0);
    for (std::size_t k = 0; k < cur.size(); ++k) {
      for (unsigned c = chars[cur[k]]; c != 0; c &= c - 1) {
        cols[static_cast<std::size_t>(std::countr_zero(c)) * words + k / 64] |= std::uint64_t{1} << (k % 64);
      }
    }
    std::uint32_t row[10];
    for (std::size_t d = 0; d < 10; ++d) {
      const std::uint64_t* col = cols.data() + d * words;
      // Digits leaving through the same edges (\d, [2-9], ...) share the successor.
      std::size_t e = 0;
      for (; e < d; ++e) {
        const std::uint64_t* other = cols.data() + e * words;
        std::size_t w = 0;
        while (w < words && col[w] == other[w]) ++w;
        if (w == words) break;
      }
      if (e < d) {
        row[d] = row[e];
        continue;
      }
      std::size_t edges = 0, first = 0;
      for (std::size_t w = 0; w < words; ++w) {
        if (col[w] != 0 && edges == 0) first = 64 * w + static_cast<std::size_t>(std::countr_zero(col[w]));
        edges += static_cast<std::size_t>(std::popcount(col[w]));
      }
      if (edges == 0) {
        if (empty_id == none) empty_id = sets.intern(cand.data(), 0);
        row[d] = empty_id;
        continue;
      }
      if (edges == 1) {
        const std::uint32_t a = cur[first];
        if (succ_id[a] == none) succ_id[a] = sets.intern(succ.data() + succ_at[a], succ_at[a + 1] - succ_at[a]);
        row[d] = succ_id[a];
        continue;
      }
      ++kgeneration;
      cand.clear();
      for (std::size_t w = 0; w < words; ++w) {
        for (std::uint64_t b = col[w]; b != 0; b &= b - 1) {
          const std::uint32_t a = cur[64 * w + static_cast<std::size_t>(std::countr_zero(b))];
          for (std::uint32_t j = succ_at[a]; j < succ_at[a + 1]; ++j) {
            const std::uint32_t x = succ[j];
            if (kmark[x] != kgeneration) {
              kmark[x] = kgeneration;
              cand.push_back(x);
            }
          }
        }
      }
      sort_small(cand.data(), cand.data() + cand.size());
      row[d] = sets.intern(cand.data(), cand.size());
    }
    next.insert(next.end(), row, row + 10);
  }
  const std::size_t n = sets.size();

  // Outputs, one per subset state, memoised on the accepted tag set (interned like the subsets:
  // a map keyed by vectors cost a node and a key copy per distinct set, and a compare per probe).
  std::vector<std::uint32_t> out(n);
  {
    set_interner tag_sets(SIZE_MAX);
    std::vector<std::uint32_t> sig_of;  // per tag set id
    std::vector<std::uint32_t> tags;
    std::vector<int> tag_list;
    for (std::size_t i = 0; i < n; ++i) {
      tags.clear();
      for (const std::uint32_t* p = sets.begin(i); p != sets.end(i); ++p) {
        if (tag_of[*p] >= 0) tags.push_back(static_cast<std::uint32_t>(tag_of[*p]));
      }
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      const std::uint32_t id = tag_sets.intern(tags.data(), tags.size());
      if (id == sig_of.size()) {
        tag_list.assign(tags.begin(), tags.end());
        sig_of.push_back(signature(tag_list));
      }
      out[i] = sig_of[id];
    }
  }

  // Moore minimisation: start from the partition by output, refine by successor classes. Any
  // correct refinement yields the same partition, and the emission below numbers its classes
  // canonically, so the tables do not depend on how classes are numbered here.
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
  {
    // Refinement by successor classes (Moore's rounds), touching only what can change: after a
    // round, the members of a class have equal successor classes except the states flagged
    // dirty (a successor of theirs moved to another class since they were last compared). A
    // round therefore compares only dirty states, with their class's common successor classes;
    // those that differ leave, grouped by successor classes, and the states that stay keep the
    // class id. The fixpoint is the same coarsest partition as with full Moore rounds.
    //
    // Predecessors (CSR), without the repeats of a row's runs of equal successors ([2-9] ...).
    std::vector<std::uint32_t> pred_at(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t* row = next.data() + i * 10;
      ++pred_at[row[0] + 1];
      for (std::size_t d = 1; d < 10; ++d) {
        if (row[d] != row[d - 1]) ++pred_at[row[d] + 1];
      }
    }
    for (std::size_t i = 0; i < n; ++i) pred_at[i + 1] += pred_at[i];
    std::vector<std::uint32_t> preds(pred_at[n]);
    {
      std::vector<std::uint32_t> fill(pred_at.begin(), pred_at.end() - 1);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t* row = next.data() + i * 10;
        preds[fill[row[0]]++] = static_cast<std::uint32_t>(i);
        for (std::size_t d = 1; d < 10; ++d) {
          if (row[d] != row[d - 1]) preds[fill[row[d]]++] = static_cast<std::uint32_t>(i);
        }
      }
    }

    // The states of each class are contiguous in `elems` ([begin, end) per class; pos is the
    // inverse), so leavers are moved out of a class without visiting the states that stay.
    std::vector<std::uint32_t> elems(n), pos(n), begin(n, 0), end(n, 0);
    {
      std::vector<std::uint32_t> at(classes + 1, 0);
      for (std::size_t i = 0; i < n; ++i) ++at[cls[i] + 1];
      for (std::size_t c = 0; c < classes; ++c) {
        at[c + 1] += at[c];
        begin[c] = at[c];
        end[c] = at[c + 1];
      }
      for (std::size_t i = 0; i < n; ++i) {
        pos[i] = at[cls[i]]++;
        elems[pos[i]] = static_cast<std::uint32_t>(i);
      }
    }

    // Successor classes of the leavers' groups, by group id, indexed by an open-addressed
    // table of (hash high half << 32) | (group id + 1) slots, 0: empty; cleared per class.
    constexpr std::size_t key_len = 10;
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    const std::size_t mask = cap - 1;
    std::vector<std::uint64_t> slot(cap, 0);
    std::vector<std::uint32_t> used;
    std::vector<std::uint32_t> group_keys(n * key_len);
    auto key_of = [&](std::uint32_t s, std::uint32_t* key) {
      for (std::size_t d = 0; d < key_len; ++d) key[d] = cls[next[s * 10 + d]];
    };

    std::vector<char> dirty(n, 1);
    std::vector<std::uint32_t> dirty_list(elems);  // everything, already in class order
    std::vector<char> in_run(n, 0), leaving(n, 0);
    std::vector<std::uint32_t> work;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> leavers;  // (state, new class), one class
    std::vector<std::pair<std::uint32_t, std::uint32_t>> moved;    // (state, new class), the round
    std::vector<std::uint32_t> at;
    while (!dirty_list.empty()) {
      work.clear();
      for (std::uint32_t s : dirty_list) {
        dirty[s] = 0;
        if (end[cls[s]] - begin[cls[s]] > 1) work.push_back(s);  // a class of one cannot split
      }
      dirty_list.clear();
      // Group by class (the order within a class does not matter).
      if (!std::is_sorted(work.begin(), work.end(),
                          [&](std::uint32_t a, std::uint32_t b) { return cls[a] < cls[b]; })) {
        std::sort(work.begin(), work.end(), [&](std::uint32_t a, std::uint32_t b) { return cls[a] < cls[b]; });
      }
      std::size_t count = classes;
      for (std::size_t a = 0; a < work.size();) {
        const std::uint32_t c = cls[work[a]];
        std::size_t b = a;
        while (b < work.size() && cls[work[b]] == c) ++b;
        const std::uint32_t lo = begin[c], hi = end[c];
        // The class's common successor classes: those of a state that is not dirty, else
        // (every member dirty) those of the first dirty one, which then stays.
        std::uint32_t ref[key_len];
        std::uint32_t ref_state = work[a];
        if (b - a < hi - lo) {
          for (std::size_t k = a; k < b; ++k) in_run[work[k]] = 1;
          std::uint32_t k = lo;
          while (in_run[elems[k]] != 0) ++k;
          ref_state = elems[k];
          for (std::size_t x = a; x < b; ++x) in_run[work[x]] = 0;
        }
        key_of(ref_state, ref);
        const std::size_t first_new = count;
        for (std::size_t k = a; k < b; ++k) {
          const std::uint32_t s = work[k];
          std::uint32_t key[key_len];
          key_of(s, key);
          std::uint32_t diff = 0;
          for (std::size_t d = 0; d < key_len; ++d) diff |= key[d] ^ ref[d];
          if (diff == 0) continue;
          const std::uint64_t h = hash_cells(key, key_len);
          const std::uint64_t tag = h & 0xFFFFFFFF00000000ull;
          for (std::size_t j = static_cast<std::size_t>(h) & mask;; j = (j + 1) & mask) {
            const std::uint64_t e = slot[j];
            if (e == 0) {
              const auto id = static_cast<std::uint32_t>(count++);
              slot[j] = tag | (id + 1u);
              used.push_back(static_cast<std::uint32_t>(j));
              std::copy(key, key + key_len, group_keys.begin() + static_cast<std::ptrdiff_t>(id * key_len));
              leavers.emplace_back(s, id);
              break;
            }
            if ((e & 0xFFFFFFFF00000000ull) != tag) continue;
            const std::uint32_t id = static_cast<std::uint32_t>(e) - 1;
            const std::uint32_t* g = group_keys.data() + id * key_len;
            std::uint32_t gdiff = 0;
            for (std::size_t d = 0; d < key_len; ++d) gdiff |= g[d] ^ key[d];
            if (gdiff == 0) {
              leavers.emplace_back(s, id);
              break;
            }
          }
        }
        for (std::uint32_t j : used) slot[j] = 0;
        used.clear();
        a = b;
        if (leavers.empty()) continue;
        // Move the leavers to the end of the class's range, ordered by new class.
        const std::size_t groups = count - first_new;
        at.assign(groups + 1, 0);
        for (const auto& [s, id] : leavers) ++at[id - first_new + 1];
        for (std::size_t g = 0; g < groups; ++g) at[g + 1] += at[g];
        const std::uint32_t split = hi - static_cast<std::uint32_t>(leavers.size());
        for (std::size_t g = 0; g < groups; ++g) {
          begin[first_new + g] = split + at[g];
          end[first_new + g] = split + at[g + 1];
        }
        end[c] = split;
        // Swap the leavers out of the stayers' part [lo, split), then order [split, hi).
        for (const auto& l : leavers) leaving[l.first] = 1;
        std::uint32_t q = split;
        for (const auto& l : leavers) {
          const std::uint32_t s = l.first;
          if (pos[s] >= split) continue;
          while (leaving[elems[q]] != 0) ++q;
          const std::uint32_t t = elems[q];
          elems[q] = s;
          elems[pos[s]] = t;
          pos[t] = pos[s];
          pos[s] = q;
        }
        for (const auto& [s, id] : leavers) {
          leaving[s] = 0;
          pos[s] = split + at[id - first_new]++;
          elems[pos[s]] = s;
          moved.emplace_back(s, id);
        }
        leavers.clear();
      }
      classes = count;
      // Only now: this round's keys were all read with the class ids of its start.
      for (const auto& [s, id] : moved) {
        cls[s] = id;
        for (std::uint32_t k = pred_at[s]; k < pred_at[s + 1]; ++k) {
          const std::uint32_t p = preds[k];
          if (dirty[p] == 0) {
            dirty[p] = 1;
            dirty_list.push_back(p);
          }
        }
      }
      moved.clear();
    }
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
