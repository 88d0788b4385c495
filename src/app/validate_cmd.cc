#include "app/validate_cmd.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <thread>

#include "app/validate_input.h"
#include "app/verdict_writer.h"
#include "core/reason.h"
#include "validate/payload_validator.h"
#include "validate/phone_data.h"

namespace cg::app {

namespace {

struct counters {
  std::size_t payloads{0}, contacts{0}, accepted{0}, rejected{0}, malformed{0};
  // Per reason code and detail; named "CODE/DETAIL" only for the summary (no string per reason).
  std::array<std::array<std::size_t, detail_count>, reason_code_count> by_reason{};
  std::size_t fragment_line{0};  // first NDJSON line that looks like part of a larger document

  void merge(const counters& o) {
    payloads += o.payloads;
    contacts += o.contacts;
    accepted += o.accepted;
    rejected += o.rejected;
    malformed += o.malformed;
    for (std::size_t c = 0; c < by_reason.size(); ++c)
      for (std::size_t d = 0; d < by_reason[c].size(); ++d) by_reason[c][d] += o.by_reason[c][d];
    if (fragment_line == 0 || (o.fragment_line != 0 && o.fragment_line < fragment_line))
      fragment_line = o.fragment_line;
  }
};

void count_reason(counters& c, const reason& r) {
  ++c.by_reason[static_cast<std::size_t>(r.code)][static_cast<std::size_t>(r.what)];
}

// Judges `items` and appends their output lines to `out`.
void judge(validate::payload_validator& v, verdict_writer& vw, payload_outcome& po,
           const std::vector<payload_view>& items, std::size_t from, std::size_t to, const payload_limits& limits,
           input_format format, output_buffer& out, counters& c) {
  for (std::size_t i = from; i < to; ++i) {
    const payload_view& item = items[i];
    ++c.payloads;
    if (item.full_size > limits.max_payload_bytes) {
      po.clear();
      po.malformed = true;
      po.malformed_reason.code = reason_code::malformed_payload;
      po.malformed_reason.what = detail::too_large;
      po.malformed_reason.number = static_cast<std::int64_t>(limits.max_payload_bytes);
    } else if (item.padded) {
      v.validate_padded(item.text, po);
    } else {
      v.validate(item.text, po);
    }
    if (po.malformed) {
      ++c.malformed;
      if (format == input_format::ndjson && c.fragment_line == 0 && po.malformed_reason.what == detail::invalid_json &&
          looks_like_json_fragment(item.text))
        c.fragment_line = item.line_no;
      count_reason(c, po.malformed_reason);
      vw.write_malformed(out, item.line_no, po.malformed_reason);
      continue;
    }
    for (const contact_outcome& co : po.contacts) {
      ++c.contacts;
      if (co.accepted()) {
        ++c.accepted;
      } else {
        ++c.rejected;
        for (const reason& r : co.reasons) count_reason(c, r);
      }
      vw.write_contact(out, item.line_no, co);
    }
  }
}

void print_summary(const counters& c) {
  std::fprintf(stderr, "payloads: %zu  contacts: %zu  accepted: %zu  rejected: %zu  malformed payloads: %zu\n",
               c.payloads, c.contacts, c.accepted, c.rejected, c.malformed);
  std::map<std::string, std::size_t> named;  // sorted by name, as printed before
  for (std::size_t code = 0; code < c.by_reason.size(); ++code) {
    for (std::size_t d = 0; d < c.by_reason[code].size(); ++d) {
      if (c.by_reason[code][d] == 0) continue;
      std::string key{to_string(static_cast<reason_code>(code))};
      key.push_back('/');
      key.append(to_string(static_cast<detail>(d)));
      named[key] += c.by_reason[code][d];
    }
  }
  for (const auto& [k, v] : named) std::fprintf(stderr, "  %-50s %zu\n", k.c_str(), v);
}

}  // namespace

int run_validate(const validate_options& opts) {
  validate::use_phone_metadata(opts.phone_metadata);
  const auto phones = validate::make_phone_validator(opts.phone_validator);
  const validate::rule_set rules{*phones, validate::postal_table::builtin()};
  const unsigned threads = std::max(1u, opts.threads);
  std::vector<std::unique_ptr<validate::payload_validator>> validators;
  for (unsigned t = 0; t < threads; ++t)
    validators.push_back(std::make_unique<validate::payload_validator>(rules, opts.limits));

  std::vector<std::string> files = opts.files;
  if (files.empty()) files.emplace_back("-");

  counters total;
  std::size_t line_no = 0;
  // One thread: small batches, so a line is still in cache when it is parsed after the batch's
  // newline scan (4096 lines of ~180 bytes overflow a 512 KiB L2). More threads: large
  // batches, each starts a round of helper threads.
  const std::size_t batch = threads == 1 ? 512 : 4096;
  std::vector<payload_view> items;
  items.reserve(batch);
  std::vector<output_buffer> outs(threads);
  std::vector<counters> cs(threads);
  std::vector<payload_outcome> outcomes(threads);  // reused: no allocation per payload
  std::vector<std::unique_ptr<verdict_writer>> writers;
  for (unsigned t = 0; t < threads; ++t) writers.push_back(std::make_unique<verdict_writer>());
  int status = 0;

  for (const std::string& name : files) {
    std::FILE* f = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "contactgate validate: cannot open %s: %s\n", name.c_str(), std::strerror(errno));
      return 2;
    }
    const auto source = make_batch_reader(opts.input, f, opts.limits.max_payload_bytes + 1, line_no);
    while (source->next_batch(items, batch)) {
      const std::size_t n = items.size();
      const std::size_t per = (n + threads - 1) / threads;
      std::vector<std::jthread> pool;
      for (unsigned t = 1; t < threads; ++t) {
        const std::size_t from = std::min(n, t * per), to = std::min(n, (t + 1) * per);
        outs[t].clear();
        pool.emplace_back([&, t, from, to] {
          judge(*validators[t], *writers[t], outcomes[t], items, from, to, opts.limits, opts.input, outs[t], cs[t]);
        });
      }
      outs[0].clear();
      judge(*validators[0], *writers[0], outcomes[0], items, 0, std::min(n, per), opts.limits, opts.input, outs[0],
            cs[0]);
      pool.clear();  // joins
      for (unsigned t = 0; t < threads; ++t) {
        if (!outs[t].empty() && std::fwrite(outs[t].data(), 1, outs[t].size(), stdout) != outs[t].size()) {
          std::fprintf(stderr, "contactgate validate: cannot write output: %s\n", std::strerror(errno));
          return 2;
        }
      }
    }
    const std::string err = source->error();
    if (f != stdin) std::fclose(f);
    if (!err.empty()) {
      std::fflush(stdout);
      std::fprintf(stderr, "contactgate validate: cannot read %s: %s\n", name == "-" ? "stdin" : name.c_str(),
                   err.c_str());
      return 2;
    }
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "contactgate validate: cannot write output: %s\n", std::strerror(errno));
    return 2;
  }
  for (const counters& c : cs) total.merge(c);
  if (total.fragment_line != 0)
    std::fprintf(stderr,
                 "contactgate validate: line %zu is not valid JSON and looks like part of a larger JSON document; "
                 "for a pretty-printed file holding one payload, use --input json\n",
                 total.fragment_line);
  if (opts.summary) print_summary(total);
  if (total.rejected > 0 || total.malformed > 0) status = 1;
  return status;
}

}  // namespace cg::app
