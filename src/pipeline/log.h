#pragma once
/// Minimal structured logging to stderr (one JSON object per line), safe from any thread.
/// Never pass payload contents: phone numbers are personal data (see cg::mask_phone, core/format.h).
#include <string_view>

namespace cg::pipeline {

enum class level { debug, info, warn, error };

void log(level lv, std::string_view msg);
void set_log_level(level min);

}  // namespace cg::pipeline
