#include "emit/reason_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "emit/json_writer.h"

namespace cg::emit {
namespace {

std::string rendered(const reason& r) {
  std::string s;
  {
    string_sink sink(s);
    json_writer w(sink);
    write_reason(w, r);
  }
  return s;
}

reason make(reason_code code, field_id field, detail what, std::int64_t number, std::string_view note) {
  reason r;
  r.code = code;
  r.field = field;
  r.what = what;
  r.number = number;
  r.note = note;
  return r;
}

TEST(ReasonJsonCache, AtItsBoundEveryLookupStillRendersItsOwnReason) {
  // One slot: every other reason evicts the previous one; a stale slot must never answer.
  reason_json_cache cache(1);
  const reason a = make(reason_code::invalid_correlation_id, field_id::correlation_id, detail::wrong_length, 4, {});
  const reason b = make(reason_code::invalid_correlation_id, field_id::correlation_id, detail::wrong_length, 5, {});
  std::string note = "first note";
  const reason c = make(reason_code::malformed_payload, field_id::none, detail::invalid_json, -1, note);
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(cache.json_of(a), rendered(a));
    EXPECT_EQ(cache.json_of(b), rendered(b));
    EXPECT_EQ(cache.json_of(c), rendered(c));
    EXPECT_EQ(cache.json_of(c), rendered(c)) << "a hit";
  }
  // The cache keeps its own copy of the note: the caller's text may change afterwards (in
  // place, same length), and a reason with the new text must not match the old entry.
  note.assign("other text");
  const reason c2 = make(reason_code::malformed_payload, field_id::none, detail::invalid_json, -1, "other text");
  EXPECT_EQ(cache.json_of(c2), rendered(c2));
}

TEST(ReasonJsonCache, ZeroSlotsMeansOne) {
  reason_json_cache cache(0);
  const reason a = make(reason_code::invalid_zip_code, field_id::zip_code, detail::not_valid, -1, {});
  EXPECT_EQ(cache.json_of(a), rendered(a));
}

}  // namespace
}  // namespace cg::emit
