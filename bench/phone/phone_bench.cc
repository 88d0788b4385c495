// Phone validation: libphonenumber (reference_phone_validator) against fast_phone_validator,
// per number and inside full record validation, on 1 and 2 threads; plus the fast
// validator's start-up time and footprint. Figures: bench/README.md.
//
// Numbers: the contact_ids of the generator corpus (seed 42, 20,000 contacts, ~20% invalid)
// that pass the E.164 syntax check, plus 5,000 random E.164-shaped ones (mostly invalid:
// random calling codes and lengths). Both validators judge the same set; the run also checks
// that they agree on every number and stops with an error if not.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/outcome.h"
#include "generate/corpus.h"
#include "parse/payload_parser.h"
#include "validate/payload_validator.h"
#include "validate/phone.h"
#include "validate/phone_fast.h"
#include "validate/postal_table.h"
#include "validate/rules.h"

namespace {

using namespace cg;

const std::vector<std::string>& corpus() {
  static const auto c =
      generate::corpus_generator(generate::corpus_options{.seed = 42, .invalid_ratio = 0.2}).contacts(20000);
  return c;
}

const validate::reference_phone_validator& reference() {
  static const validate::reference_phone_validator v;
  return v;
}

const validate::fast_phone_validator& fast() {
  static const validate::fast_phone_validator v;
  return v;
}

const std::vector<std::string>& numbers() {
  static const std::vector<std::string> n = [] {
    std::vector<std::string> out;
    parse::payload_parser parser;
    std::vector<contact_fields> cf;
    reason err;
    for (const auto& p : corpus()) {
      if (!parser.parse(p, cf, err)) continue;
      const field_value& id = cf[0].contact_id;
      if (id.kind == field_kind::string && validate::check_e164_syntax(id.text) == e164_problem::none) {
        out.emplace_back(id.text);
      }
    }
    std::mt19937_64 rng(42);
    for (int i = 0; i < 5000; ++i) {
      std::string s = "+";
      s.push_back(static_cast<char>('1' + rng() % 9));
      const std::size_t len = rng() % 15;
      for (std::size_t k = 0; k < len; ++k) s.push_back(static_cast<char>('0' + rng() % 10));
      out.push_back(std::move(s));
    }
    std::size_t disagree = 0;
    for (const auto& x : out) disagree += reference().check(x) != fast().check(x) ? 1 : 0;
    if (disagree != 0) {
      std::fprintf(stderr, "fast and reference phone validators disagree on %zu numbers\n", disagree);
      std::exit(1);
    }
    return out;
  }();
  return n;
}

void run_numbers(benchmark::State& state, const validate::phone_validator& v) {
  const auto& ns = numbers();
  for (auto _ : state) {
    for (const auto& n : ns) benchmark::DoNotOptimize(v.check(n));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ns.size()));
}

void bm_phone_reference(benchmark::State& state) { run_numbers(state, reference()); }
void bm_phone_fast(benchmark::State& state) { run_numbers(state, fast()); }
BENCHMARK(bm_phone_reference)->Unit(benchmark::kMillisecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(bm_phone_fast)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();

// Whole payloads (parse + all four rules), one payload_validator per thread.
void run_records(benchmark::State& state, const validate::phone_validator& phones) {
  const validate::rule_set rules{phones, validate::postal_table::builtin()};
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

void bm_full_record_reference(benchmark::State& state) { run_records(state, reference()); }
void bm_full_record_fast(benchmark::State& state) { run_records(state, fast()); }
BENCHMARK(bm_full_record_reference)->Unit(benchmark::kMillisecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(bm_full_record_fast)->Unit(benchmark::kMillisecond)->Threads(1)->Threads(2)->UseRealTime();

// Start-up: building every table from libphonenumber's metadata; reports the footprint.
void bm_fast_construction(benchmark::State& state) {
  std::size_t bytes = 0, states = 0, patterns = 0, regions = 0;
  for (auto _ : state) {
    const validate::fast_phone_validator v;
    bytes = v.footprint_bytes();
    states = v.dfa_state_count();
    patterns = v.pattern_count();
    regions = v.region_count();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["footprint_bytes"] = static_cast<double>(bytes);
  state.counters["dfa_states"] = static_cast<double>(states);
  state.counters["patterns"] = static_cast<double>(patterns);
  state.counters["regions"] = static_cast<double>(regions);
}
BENCHMARK(bm_fast_construction)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Build the validators, the corpus and the number set (and check agreement) before timing.
  const auto t0 = std::chrono::steady_clock::now();
  (void)fast();
  const auto t1 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "fast_phone_validator: built in %.1f ms, %zu bytes, %zu DFA states, %zu patterns, %zu regions\n",
               std::chrono::duration<double, std::milli>(t1 - t0).count(), fast().footprint_bytes(),
               fast().dfa_state_count(), fast().pattern_count(), fast().region_count());
  std::fprintf(stderr, "numbers: %zu (agreement checked)\n", numbers().size());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
