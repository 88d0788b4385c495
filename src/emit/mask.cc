#include "emit/mask.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "core/format.h"
#include "emit/records.h"

namespace cg::emit {

namespace {

void mask_contact_ids(rapidjson::Value& v, rapidjson::Document::AllocatorType& a) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      if (m.value.IsString() && std::string_view(m.name.GetString(), m.name.GetStringLength()) == "contact_id") {
        const std::string masked = mask_phone({m.value.GetString(), m.value.GetStringLength()});
        m.value.SetString(masked.data(), static_cast<rapidjson::SizeType>(masked.size()), a);
      } else {
        mask_contact_ids(m.value, a);
      }
    }
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) mask_contact_ids(e, a);
  }
}

std::string mask_digit_runs(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j - i >= 7) {
      out += mask_phone(s.substr(i, j - i));
    } else {
      out.append(s.substr(i, std::max<std::size_t>(j - i, 1)));
      if (j == i) j = i + 1;
    }
    i = j;
  }
  return out;
}

}  // namespace

std::string mask_rejection_json(std::string_view value) {
  rapidjson::Document doc;
  doc.Parse(value.data(), value.size());
  if (doc.HasParseError() || !doc.IsObject()) return "<unreadable record>";
  auto& a = doc.GetAllocator();
  if (auto rec = doc.FindMember("record"); rec != doc.MemberEnd()) {
    if (rec->value.IsString()) {
      const std::string masked = mask_digit_runs({rec->value.GetString(), rec->value.GetStringLength()});
      rec->value.SetString(masked.data(), static_cast<rapidjson::SizeType>(masked.size()), a);
    } else {
      mask_contact_ids(rec->value, a);
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace cg::emit
