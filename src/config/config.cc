#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace cg::config {

namespace {

const std::vector<std::string> k_keys = {"kafka.brokers",
                                         "kafka.group_id",
                                         "kafka.sasl_password_file",
                                         "topics.input",
                                         "topics.accepted",
                                         "topics.rejected",
                                         "topics.partitions",
                                         "topics.replication",
                                         "pipeline.workers",
                                         "pipeline.max_in_flight",
                                         "pipeline.max_in_flight_bytes",
                                         "pipeline.commit_interval_ms",
                                         "pipeline.shutdown_timeout_ms",
                                         "pipeline.phone_validator",
                                         "pipeline.phone_metadata",
                                         "pipeline.mode",
                                         "processing.guarantee",
                                         "processing.transaction_interval_ms",
                                         "processing.transactional_id",
                                         "pipeline.internal_retries",
                                         "testing.fault_rate",
                                         "testing.fault_mode",
                                         "http.enabled",
                                         "http.address",
                                         "http.port",
                                         "limits.max_payload_bytes",
                                         "limits.max_depth",
                                         "limits.max_contacts",
                                         "limits.max_string_bytes",
                                         "kafka.static_membership",
                                         "kafka.group_instance_id"};

constexpr std::string_view k_passthrough[] = {"kafka.common.", "kafka.consumer.", "kafka.producer."};

bool is_passthrough(const std::string& key) {
  return std::any_of(std::begin(k_passthrough), std::end(k_passthrough),
                     [&](std::string_view p) { return key.size() > p.size() && key.compare(0, p.size(), p) == 0; });
}

std::string env_name(const std::string& key) {
  std::string n = "CONTACTGATE_";
  for (char c : key) n.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return n;
}

void flatten(const toml::table& t, const std::string& prefix, std::map<std::string, std::string>& out,
             const std::string& path) {
  for (const auto& [k, v] : t) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = v.as_table()) {
      flatten(*sub, key, out, path);
    } else if (const auto* s = v.as_string()) {
      out[key] = s->get();
    } else if (const auto* i = v.as_integer()) {
      out[key] = std::to_string(i->get());
    } else if (const auto* b = v.as_boolean()) {
      out[key] = b->get() ? "true" : "false";
    } else if (const auto* f = v.as_floating_point()) {
      std::ostringstream os;
      os << f->get();
      out[key] = os.str();
    } else {
      throw config_error(path + ": " + key + ": arrays and dates are not supported values");
    }
  }
}

template <typename T>
T parse_number(const std::string& key, const std::string& value, const std::string& source, T min, T max) {
  T v{};
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < min || v > max) {
    throw config_error(source + ": " + key + " = '" + value + "': expected a whole number from " + std::to_string(min) +
                       " to " + std::to_string(max));
  }
  return v;
}

}  // namespace

const std::vector<std::string>& known_keys() { return k_keys; }

std::string default_instance_name(const std::string& group_id) {
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  return "contactgate-" + group_id + "-" + host;
}

bool is_secret_key(const std::string& key) {
  std::string k = key;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* s : {"password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key", "token", "sasl.jaas",
                        "credential"}) {
    if (k.find(s) != std::string::npos) return true;
  }
  return false;
}

layer read_toml_file(const std::string& path) {
  layer l{path, {}};
  try {
    const toml::table t = toml::parse_file(path);
    flatten(t, "", l.values, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw config_error(os.str());
  }
  return l;
}

layer read_environment() {
  layer l{"environment", {}};
  for (const auto& k : k_keys) {
    if (const char* v = std::getenv(env_name(k).c_str())) l.values[k] = v;
  }
  return l;
}

layer read_assignments(const std::vector<std::string>& assignments, const std::string& source) {
  layer l{source, {}};
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) throw config_error(source + ": '" + a + "': expected key=value");
    l.values[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return l;
}

settings resolve(const std::vector<layer>& layers) {
  settings s;
  for (const layer& l : layers) {
    for (const auto& [key, value] : l.values) {
      const std::string& src = l.source;
      if (is_passthrough(key)) {
        const auto dot = key.find('.', 6);  // after "kafka."
        const std::string section = key.substr(6, dot - 6), prop = key.substr(dot + 1);
        auto& m = section == "common" ? s.kafka_common : section == "consumer" ? s.kafka_consumer : s.kafka_producer;
        m[prop] = value;
      } else if (key == "kafka.brokers") {
        s.brokers = value;
      } else if (key == "kafka.sasl_password_file") {
        s.sasl_password_file = value;
      } else if (key == "kafka.group_id") {
        if (value.empty()) throw config_error(src + ": kafka.group_id must not be empty");
        s.group_id = value;
      } else if (key == "kafka.static_membership") {
        if (value != "true" && value != "false") {
          throw config_error(src + ": kafka.static_membership = '" + value + "': expected true or false");
        }
        s.static_membership = value == "true";
      } else if (key == "kafka.group_instance_id") {
        if (value.size() > 249) throw config_error(src + ": kafka.group_instance_id: at most 249 characters");
        s.group_instance_id = value;
      } else if (key == "topics.input" || key == "topics.accepted" || key == "topics.rejected") {
        if (value.empty() || value.size() > 249)
          throw config_error(src + ": " + key + ": a topic name has 1 to 249 characters");
        (key == "topics.input"      ? s.input_topic
         : key == "topics.accepted" ? s.accepted_topic
                                    : s.rejected_topic) = value;
      } else if (key == "topics.partitions") {
        s.topic_partitions = parse_number<int>(key, value, src, 1, 10000);
      } else if (key == "topics.replication") {
        s.topic_replication = parse_number<int>(key, value, src, 1, 32);
      } else if (key == "pipeline.workers") {
        s.workers = parse_number<unsigned>(key, value, src, 0, 256);
      } else if (key == "pipeline.max_in_flight") {
        s.max_in_flight = parse_number<std::size_t>(key, value, src, 1, 10'000'000);
      } else if (key == "pipeline.max_in_flight_bytes") {
        // 1 MiB to 64 GiB.
        s.max_in_flight_bytes = parse_number<std::size_t>(key, value, src, std::size_t{1} << 20, std::size_t{1} << 36);
      } else if (key == "pipeline.commit_interval_ms") {
        s.commit_interval = std::chrono::milliseconds(parse_number<long>(key, value, src, 1, 3'600'000));
      } else if (key == "pipeline.shutdown_timeout_ms") {
        s.shutdown_timeout = std::chrono::milliseconds(parse_number<long>(key, value, src, 0, 3'600'000));
      } else if (key == "pipeline.phone_validator") {
        if (value != "reference" && value != "fast") {
          throw config_error(src + ": pipeline.phone_validator = '" + value + "': expected fast or reference");
        }
        s.phone_validator = value;
      } else if (key == "pipeline.phone_metadata") {
        s.phone_metadata = value;
      } else if (key == "pipeline.mode") {
        if (value != "validate" && value != "passthrough" && value != "passthrough_headers") {
          throw config_error(src + ": pipeline.mode = '" + value +
                             "': expected validate, passthrough or passthrough_headers");
        }
        s.mode = value;
      } else if (key == "processing.guarantee") {
        if (value == "at_least_once") {
          s.processing_guarantee = guarantee::at_least_once;
        } else if (value == "exactly_once") {
          s.processing_guarantee = guarantee::exactly_once;
        } else {
          throw config_error(src + ": processing.guarantee = '" + value + "': expected at_least_once or exactly_once");
        }
      } else if (key == "processing.transaction_interval_ms") {
        s.transaction_interval = std::chrono::milliseconds(parse_number<long>(key, value, src, 1, 900'000));
      } else if (key == "processing.transactional_id") {
        s.transactional_id = value;
      } else if (key == "pipeline.internal_retries") {
        s.internal_retries = parse_number<int>(key, value, src, 0, 20);
      } else if (key == "testing.fault_rate") {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (end == value.c_str() || *end != '\0' || v < 0 || v > 1) {
          throw config_error(src + ": testing.fault_rate = '" + value + "': expected a number from 0 to 1");
        }
        s.fault_rate = v;
      } else if (key == "testing.fault_mode") {
        if (value != "permanent" && value != "transient") {
          throw config_error(src + ": testing.fault_mode = '" + value + "': expected permanent or transient");
        }
        s.fault_mode = value;
      } else if (key == "http.enabled") {
        if (value != "true" && value != "false")
          throw config_error(src + ": http.enabled = '" + value + "': expected true or false");
        s.http_enabled = value == "true";
      } else if (key == "http.address") {
        s.http_address = value;
      } else if (key == "http.port") {
        s.http_port = parse_number<int>(key, value, src, 0, 65535);
      } else if (key == "limits.max_payload_bytes") {
        s.limits.max_payload_bytes = parse_number<std::size_t>(key, value, src, 2, std::size_t{1} << 30);
      } else if (key == "limits.max_depth") {
        s.limits.max_depth = parse_number<std::size_t>(key, value, src, 2, 4096);
      } else if (key == "limits.max_string_bytes") {
        s.limits.max_string_bytes = parse_number<std::size_t>(key, value, src, 1, std::size_t{1} << 30);
      } else if (key == "limits.max_contacts") {
        s.limits.max_contacts = parse_number<std::size_t>(key, value, src, 1, 10'000'000);
      } else {
        std::string known;
        for (const auto& k : k_keys) known += "\n  " + k;
        throw config_error(src + ": unknown key '" + key + "'. Known keys:" + known +
                           "\n  kafka.common.*, kafka.consumer.*, kafka.producer.* (librdkafka properties)");
      }
    }
  }
  if (!s.sasl_password_file.empty()) {
    // A file holding only the password (a Kubernetes Secret's key, a systemd credential), so
    // the secret is in no environment variable, argument or configuration file.
    if (s.kafka_common.count("sasl.password")) {
      throw config_error("set either kafka.sasl_password_file or kafka.common.sasl.password, not both");
    }
    std::ifstream in(s.sasl_password_file, std::ios::binary);
    if (!in) throw config_error("kafka.sasl_password_file: cannot read " + s.sasl_password_file);
    std::string v((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw config_error("kafka.sasl_password_file: cannot read " + s.sasl_password_file);
    if (!v.empty() && v.back() == '\n') v.pop_back();
    if (!v.empty() && v.back() == '\r') v.pop_back();
    if (v.empty()) throw config_error("kafka.sasl_password_file: " + s.sasl_password_file + " is empty");
    s.kafka_common["sasl.password"] = std::move(v);
  }
  if (s.workers == 0) s.workers = std::max(1u, std::thread::hardware_concurrency());
  if (s.processing_guarantee == guarantee::exactly_once && s.transactional_id.empty()) {
    s.transactional_id = default_instance_name(s.group_id);
  }
  if (const auto it = s.kafka_consumer.find("group.instance.id"); it != s.kafka_consumer.end()) {
    s.group_instance_id = it->second;  // the librdkafka property, when given, is the one used
    s.static_membership = !it->second.empty();
  } else if (s.static_membership && s.group_instance_id.empty()) {
    s.group_instance_id = default_instance_name(s.group_id);
  }
  if (!s.static_membership) s.group_instance_id.clear();
  if (s.input_topic == s.accepted_topic || s.input_topic == s.rejected_topic || s.accepted_topic == s.rejected_topic) {
    throw config_error("topics.input, topics.accepted and topics.rejected must be three different topics");
  }
  return s;
}

std::string to_toml(const settings& s) {
  toml::table root;
  auto kafka = toml::table{{"brokers", s.brokers.empty() ? std::string("") : s.brokers},
                           {"group_id", s.group_id},
                           {"static_membership", s.static_membership},
                           {"group_instance_id", s.group_instance_id}};
  auto section = [](const std::map<std::string, std::string>& m) {
    toml::table t;
    for (const auto& [k, v] : m) t.insert(k, is_secret_key(k) ? std::string("<redacted>") : v);
    return t;
  };
  if (!s.sasl_password_file.empty()) kafka.insert("sasl_password_file", s.sasl_password_file);
  kafka.insert("common", section(s.kafka_common));
  kafka.insert("consumer", section(s.kafka_consumer));
  kafka.insert("producer", section(s.kafka_producer));
  root.insert("kafka", std::move(kafka));
  root.insert("topics", toml::table{{"input", s.input_topic},
                                    {"accepted", s.accepted_topic},
                                    {"rejected", s.rejected_topic},
                                    {"partitions", s.topic_partitions},
                                    {"replication", s.topic_replication}});
  root.insert("pipeline", toml::table{{"workers", static_cast<int64_t>(s.workers)},
                                      {"max_in_flight", static_cast<int64_t>(s.max_in_flight)},
                                      {"max_in_flight_bytes", static_cast<int64_t>(s.max_in_flight_bytes)},
                                      {"commit_interval_ms", static_cast<int64_t>(s.commit_interval.count())},
                                      {"shutdown_timeout_ms", static_cast<int64_t>(s.shutdown_timeout.count())},
                                      {"phone_validator", s.phone_validator},
                                      {"phone_metadata", s.phone_metadata},
                                      {"mode", s.mode},
                                      {"internal_retries", s.internal_retries}});
  root.insert(
      "processing",
      toml::table{{"guarantee", s.processing_guarantee == guarantee::exactly_once ? "exactly_once" : "at_least_once"},
                  {"transaction_interval_ms", static_cast<int64_t>(s.transaction_interval.count())},
                  {"transactional_id", s.transactional_id}});
  root.insert("testing", toml::table{{"fault_rate", s.fault_rate}, {"fault_mode", s.fault_mode}});
  root.insert("http", toml::table{{"enabled", s.http_enabled}, {"address", s.http_address}, {"port", s.http_port}});
  root.insert("limits", toml::table{{"max_payload_bytes", static_cast<int64_t>(s.limits.max_payload_bytes)},
                                    {"max_depth", static_cast<int64_t>(s.limits.max_depth)},
                                    {"max_contacts", static_cast<int64_t>(s.limits.max_contacts)},
                                    {"max_string_bytes", static_cast<int64_t>(s.limits.max_string_bytes)}});
  std::ostringstream os;
  os << toml::toml_formatter(root) << "\n";
  return os.str();
}

}  // namespace cg::config
