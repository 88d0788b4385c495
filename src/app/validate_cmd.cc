#include "app/validate_cmd.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <thread>

#include "app/validate_input.h"
#include "core/format.h"
#include "emit/json_writer.h"
#include "validate/payload_validator.h"
#include "validate/phone_data.h"

namespace cg::app {

namespace {

struct counters {
  std::size_t payloads{0}, contacts{0}, accepted{0}, rejected{0}, malformed{0};
  std::map<std::string, std::size_t> by_reason;  // "CODE/DETAIL"
  std::size_t fragment_line{0};                  // first NDJSON line that looks like part of a larger document

  void merge(const counters& o) {
    payloads += o.payloads;
    contacts += o.contacts;
    accepted += o.accepted;
    rejected += o.rejected;
    malformed += o.malformed;
    for (const auto& [k, v] : o.by_reason) by_reason[k] += v;
    if (fragment_line == 0 || (o.fragment_line != 0 && o.fragment_line < fragment_line))
      fragment_line = o.fragment_line;
  }
};

void count_reason(counters& c, const reason& r) {
  std::string key{to_string(r.code)};
  key.push_back('/');
  key.append(to_string(r.what));
  ++c.by_reason[key];
}

// One output line: {"line":N,"index":I|null,"correlation_id":..|null,"status":..[,"error_code":30647],"reasons":[..]}
// for a contact (`co`), or for a malformed payload (`malformed`).
void write_verdict(std::string& out, std::size_t line_no, const contact_outcome* co, const reason* malformed,
                   const reason_list* reasons) {
  emit::string_sink sink(out);
  emit::json_writer w(sink);
  w.StartObject();
  emit::write_key(w, "line");
  w.Uint64(line_no);
  emit::write_key(w, "index");
  if (co)
    w.Int64(co->index);
  else
    w.Null();
  emit::write_key(w, "correlation_id");
  if (co && co->correlation_id.kind == field_kind::string)
    emit::write_string(w, co->correlation_id.text);
  else
    w.Null();
  const bool accepted = co && co->accepted();
  emit::write_key(w, "status");
  emit::write_string(w, accepted ? "accepted" : "rejected");
  if (!accepted) {
    emit::write_key(w, "error_code");
    w.Int(30647);
  }
  emit::write_key(w, "reasons");
  if (malformed) {
    w.StartArray();
    emit::write_reason(w, *malformed);
    w.EndArray();
  } else {
    emit::write_reasons(w, *reasons);
  }
  w.EndObject();
  out.push_back('\n');
}

// Judges `items` and appends their output lines to `out`.
void judge(validate::payload_validator& v, const std::vector<line_item>& items, std::size_t from, std::size_t to,
           const payload_limits& limits, input_format format, std::string& out, counters& c) {
  payload_outcome po;
  for (std::size_t i = from; i < to; ++i) {
    const line_item& item = items[i];
    ++c.payloads;
    if (item.full_size > limits.max_payload_bytes) {
      po.clear();
      po.malformed = true;
      po.malformed_reason.code = reason_code::malformed_payload;
      po.malformed_reason.what = detail::too_large;
      po.malformed_reason.number = static_cast<std::int64_t>(limits.max_payload_bytes);
    } else {
      v.validate(item.text, po);
    }
    if (po.malformed) {
      ++c.malformed;
      if (format == input_format::ndjson && c.fragment_line == 0 && po.malformed_reason.what == detail::invalid_json &&
          looks_like_json_fragment(item.text))
        c.fragment_line = item.line_no;
      count_reason(c, po.malformed_reason);
      write_verdict(out, item.line_no, nullptr, &po.malformed_reason, nullptr);
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
      write_verdict(out, item.line_no, &co, nullptr, &co.reasons);
    }
  }
}

void print_summary(const counters& c) {
  std::fprintf(stderr, "payloads: %zu  contacts: %zu  accepted: %zu  rejected: %zu  malformed payloads: %zu\n",
               c.payloads, c.contacts, c.accepted, c.rejected, c.malformed);
  for (const auto& [k, v] : c.by_reason) std::fprintf(stderr, "  %-50s %zu\n", k.c_str(), v);
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
  constexpr std::size_t batch = 4096;
  std::vector<line_item> items(batch);
  std::vector<std::string> outs(threads);
  std::vector<counters> cs(threads);
  int status = 0;

  for (const std::string& name : files) {
    std::FILE* f = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "contactgate validate: cannot open %s: %s\n", name.c_str(), std::strerror(errno));
      return 2;
    }
    const auto source = make_payload_source(opts.input, f, opts.limits.max_payload_bytes + 1, line_no);
    bool more = true;
    while (more) {
      std::size_t n = 0;
      while (n < batch && (more = source->next(items[n]))) ++n;
      if (n == 0) break;
      const std::size_t per = (n + threads - 1) / threads;
      std::vector<std::jthread> pool;
      for (unsigned t = 1; t < threads; ++t) {
        const std::size_t from = std::min(n, t * per), to = std::min(n, (t + 1) * per);
        outs[t].clear();
        pool.emplace_back(
            [&, t, from, to] { judge(*validators[t], items, from, to, opts.limits, opts.input, outs[t], cs[t]); });
      }
      outs[0].clear();
      judge(*validators[0], items, 0, std::min(n, per), opts.limits, opts.input, outs[0], cs[0]);
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
