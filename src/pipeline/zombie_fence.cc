#include "pipeline/zombie_fence.h"

#include <algorithm>
#include <exception>

namespace cg::pipeline {

namespace {

// "contactgate\ntransactional.id=X\ngroup.instance.id=Y": ids cannot hold a line feed that
// matters here (one would only make owner_of() refuse the text).
constexpr std::string_view tag = "contactgate\ntransactional.id=";
constexpr std::string_view instance_key = "\ngroup.instance.id=";

bool conf_set(rd_kafka_conf_t* conf, const char* key, const char* value, std::string& error) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value, err, sizeof err) == RD_KAFKA_CONF_OK) return true;
  error = std::string(key) + ": " + err;
  return false;
}

// A handle of `kind` with contactgate's settings plus `key` = `value` and its own client.id;
// null (and `error`) when a property is refused or the handle cannot be made.
rk_ptr make_client(const config::settings& cfg, const std::string& bootstrap, client_kind kind, const char* key,
                   const char* value, std::string& error) {
  rd_kafka_conf_t* conf = nullptr;
  try {
    conf = make_conf(cfg, bootstrap, kind);
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
  if (!conf_set(conf, key, value, error) || !conf_set(conf, "client.id", "contactgate-fence", error)) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  char err[512];
  rk_ptr rk(rd_kafka_new(kind == client_kind::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, err, sizeof err));
  if (!rk) error = std::string("cannot create a client: ") + err;
  return rk;
}

}  // namespace

std::string owner_metadata(const txn_owner& o) {
  std::string m(tag);
  m += o.transactional_id;
  m += instance_key;
  m += o.group_instance_id;
  return m;
}

std::optional<txn_owner> owner_of(std::string_view metadata) {
  if (metadata.substr(0, tag.size()) != tag) return std::nullopt;
  metadata.remove_prefix(tag.size());
  const std::size_t at = metadata.find(instance_key);
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  txn_owner o;
  o.transactional_id = metadata.substr(0, at);
  o.group_instance_id = metadata.substr(at + instance_key.size());
  if (o.group_instance_id.find('\n') != std::string::npos) return std::nullopt;
  return o;
}

bool is_member(const std::vector<std::string>& member_ids, std::string_view group_instance_id) noexcept {
  return std::any_of(member_ids.begin(), member_ids.end(), [&](const std::string& id) {
    return id.size() > group_instance_id.size() + 1 &&
           id.compare(0, group_instance_id.size(), group_instance_id) == 0 && id[group_instance_id.size()] == '-';
  });
}

bool zombie_fencer::open_reader(std::string& error) {
  if (!_reader)
    _reader = make_client(_cfg, _bootstrap, client_kind::consumer, "isolation.level", "read_uncommitted", error);
  return _reader != nullptr;
}

std::vector<std::string> zombie_fencer::departed_owners(const std::vector<std::int32_t>& partitions,
                                                        std::string_view own, int timeout_ms, std::string& error) {
  std::vector<txn_owner> owners;
  std::vector<std::string> ids;
  if (partitions.empty() || !open_reader(error)) return ids;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const std::int32_t p : partitions) rd_kafka_topic_partition_list_add(l, _cfg.input_topic.c_str(), p);
  // read_uncommitted: the last committed offsets, whatever transaction is still open.
  if (const rd_kafka_resp_err_t e = rd_kafka_committed(_reader.get(), l, timeout_ms)) {
    error = std::string("cannot read committed offsets: ") + rd_kafka_err2str(e);
  } else {
    for (int i = 0; i < l->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = l->elems[i];
      if (tp.err || tp.metadata == nullptr) continue;
      std::optional<txn_owner> o = owner_of({static_cast<const char*>(tp.metadata), tp.metadata_size});
      if (!o || o->transactional_id == own || o->group_instance_id.empty()) continue;
      if (std::find(owners.begin(), owners.end(), *o) == owners.end()) owners.push_back(std::move(*o));
    }
  }
  rd_kafka_topic_partition_list_destroy(l);
  if (owners.empty()) return ids;

  const rd_kafka_group_list* groups = nullptr;
  if (const rd_kafka_resp_err_t e = rd_kafka_list_groups(_reader.get(), _cfg.group_id.c_str(), &groups, timeout_ms)) {
    error = std::string("cannot describe group ") + _cfg.group_id + ": " + rd_kafka_err2str(e);
    return ids;
  }
  std::vector<std::string> members;
  bool described = false;
  for (int g = 0; g < groups->group_cnt; ++g) {
    const rd_kafka_group_info& gi = groups->groups[g];
    if (_cfg.group_id != gi.group || gi.err) continue;
    described = true;
    for (int m = 0; m < gi.member_cnt; ++m) members.emplace_back(gi.members[m].member_id);
  }
  rd_kafka_group_list_destroy(groups);
  if (!described) {
    error = "group " + _cfg.group_id + " was not described";
    return ids;
  }
  for (const txn_owner& o : owners) {
    if (!is_member(members, o.group_instance_id)) ids.push_back(o.transactional_id);
  }
  return ids;
}

bool zombie_fencer::fence(const std::string& transactional_id, int timeout_ms, std::string& error) {
  const rk_ptr p =
      make_client(_cfg, _bootstrap, client_kind::producer, "transactional.id", transactional_id.c_str(), error);
  if (!p) return false;
  if (rd_kafka_error_t* e = rd_kafka_init_transactions(p.get(), timeout_ms)) {
    error = rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    return false;
  }
  return true;
}

}  // namespace cg::pipeline
