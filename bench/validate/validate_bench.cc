// Per-stage costs of validation, on the deterministic generator corpus (seed 42, ~20%
// invalid, 32 countries). Each benchmark reports records/s ("items_per_second").
#include <benchmark/benchmark.h>

#include <memory>

#include "generate/corpus.h"
#include "parse/payload_parser.h"
#include "validate/payload_validator.h"
#include "validate/rules.h"

namespace {

using namespace cg;

const std::vector<std::string>& corpus() {
  static const auto c =
      generate::corpus_generator(generate::corpus_options{.seed = 42, .invalid_ratio = 0.2}).contacts(20000);
  return c;
}

// The corpus parsed once, with the parsed fields copied out (so rule benchmarks don't parse).
struct parsed_corpus {
  std::vector<std::string> storage;
  std::vector<contact_fields> contacts;
};

const parsed_corpus& parsed() {
  static const parsed_corpus pc = [] {
    parsed_corpus out;
    parse::payload_parser parser;
    std::vector<contact_fields> cf;
    reason err;
    out.storage.reserve(corpus().size() * 4);
    for (const auto& p : corpus()) {
      if (!parser.parse(p, cf, err)) continue;
      contact_fields c = cf[0];
      auto keep = [&](field_value& f) {
        if (f.kind != field_kind::string) return;
        out.storage.emplace_back(f.text);
      };
      keep(c.correlation_id);
      keep(c.contact_id);
      keep(c.country_iso_code);
      keep(c.zip_code);
      out.contacts.push_back(c);
    }
    // Re-point views at the stable storage.
    std::size_t k = 0;
    for (auto& c : out.contacts) {
      for (field_value* f : {&c.correlation_id, &c.contact_id, &c.country_iso_code, &c.zip_code}) {
        if (f->kind == field_kind::string) f->text = out.storage[k++];
      }
      c.raw = {};
    }
    return out;
  }();
  return pc;
}

const validate::phone_validator& reference() {
  static const validate::reference_phone_validator v;
  return v;
}

void bm_parse(benchmark::State& state) {
  parse::payload_parser parser;
  std::vector<contact_fields> out;
  reason err;
  std::size_t bytes = 0;
  for (const auto& p : corpus()) bytes += p.size();
  for (auto _ : state) {
    for (const auto& p : corpus()) benchmark::DoNotOptimize(parser.parse(p, out, err));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(bm_parse)->Unit(benchmark::kMillisecond);

template <typename F>
void run_rule(benchmark::State& state, F f) {
  const auto& cs = parsed().contacts;
  for (auto _ : state) {
    for (const auto& c : cs) {
      reason r;
      benchmark::DoNotOptimize(f(c, r));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * cs.size()));
}

void bm_rule_correlation_id(benchmark::State& s) {
  run_rule(s, [](const contact_fields& c, reason& r) { return validate::check_correlation_id(c.correlation_id, r); });
}
void bm_rule_country(benchmark::State& s) {
  run_rule(s, [](const contact_fields& c, reason& r) { return validate::check_country(c.country_iso_code, r); });
}
void bm_rule_e164_syntax(benchmark::State& s) {
  run_rule(s, [](const contact_fields& c, reason&) { return validate::check_e164_syntax(c.contact_id.text); });
}
void bm_rule_zip(benchmark::State& s) {
  const auto& postal = validate::postal_table::builtin();
  run_rule(s, [&](const contact_fields& c, reason& r) {
    return validate::check_zip(c.zip_code, c.country_iso_code.text, true, postal, r);
  });
}
void bm_rule_phone_reference(benchmark::State& s) {
  run_rule(s,
           [](const contact_fields& c, reason& r) { return validate::check_contact_id(c.contact_id, reference(), r); });
}
BENCHMARK(bm_rule_correlation_id)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_rule_country)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_rule_e164_syntax)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_rule_zip)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_rule_phone_reference)->Unit(benchmark::kMillisecond);

// Whole payloads (parse + all rules) with the reference phone validator.
void bm_full_record_reference(benchmark::State& state) {
  static const validate::rule_set rules{reference(), validate::postal_table::builtin()};
  validate::payload_validator v(rules);
  payload_outcome out;
  for (auto _ : state) {
    for (const auto& p : corpus()) {
      v.validate(p, out);
      benchmark::DoNotOptimize(out.contacts.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(bm_full_record_reference)->Unit(benchmark::kMillisecond)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
