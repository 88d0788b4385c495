#pragma once
/// exactly_once: ends the transaction that a departed owner of an input partition left open,
/// instead of waiting for the broker to time it out.
///
/// Why: an instance that dies (SIGKILL, a lost machine) leaves its last transaction open. Until
/// the broker aborts it, after that producer's transaction.timeout.ms plus up to the broker's
/// transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s by default), read_committed
/// readers of the output partitions it wrote to see nothing past it, the survivor's outputs
/// included, and a committed input offset inside it is unreadable (KIP-447). Measured on the
/// recovery test: the survivor got the dead instance's partitions after session.timeout.ms
/// (10 s), and its outputs became visible 0-6 s later, when the broker aborted.
/// Initialising a producer with the dead instance's transactional.id aborts that transaction at
/// once: it is how Kafka fences zombies. To know whose it was, every transactional offset commit
/// names the committer (owner_metadata) in the offset's metadata; the fencer reads it back with a
/// read_uncommitted handle (an open transaction does not block it), and fences an owner only if
/// it is no longer a member of the group: a live instance that hands a partition over (scale
/// out) has committed before it lets go, and stays a member.
///
/// Threads: the processor's main thread only. Lifetime: owns its librdkafka handles (made on
/// first use); borrows the settings, which outlive it.
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pipeline/kafka.h"

namespace cg::pipeline {

/// Who made a transactional offset commit.
struct txn_owner {
  std::string transactional_id;
  std::string group_instance_id;  ///< empty for a dynamic member
  bool operator==(const txn_owner&) const = default;
};

/// The offset-commit metadata naming the committer.
[[nodiscard]] std::string owner_metadata(const txn_owner& o);
/// The committer named by metadata that owner_metadata() wrote; nothing for any other text.
[[nodiscard]] std::optional<txn_owner> owner_of(std::string_view metadata);
/// Is a static member with `group_instance_id` among `member_ids`? The broker makes a static
/// member's id from its group.instance.id: "<group.instance.id>-<uuid>".
[[nodiscard]] bool is_member(const std::vector<std::string>& member_ids, std::string_view group_instance_id) noexcept;

class zombie_fencer {
 public:
  zombie_fencer(const config::settings& s, std::string bootstrap) : _cfg(s), _bootstrap(std::move(bootstrap)) {}

  /// The transactional.ids that last committed `partitions` of the input topic (other than
  /// `own`) whose instances are no longer members of the group. Owners without a
  /// group.instance.id cannot be told apart from live members and are left out. Errors (e.g.
  /// the broker out of reach) give an empty result and `error`.
  [[nodiscard]] std::vector<std::string> departed_owners(const std::vector<std::int32_t>& partitions,
                                                         std::string_view own, int timeout_ms, std::string& error);

  /// Initialises, then destroys, a transactional producer with `transactional_id`: the broker
  /// aborts that id's open transaction and fences its producer. False with `error` otherwise.
  [[nodiscard]] bool fence(const std::string& transactional_id, int timeout_ms, std::string& error);

 private:
  [[nodiscard]] bool open_reader(std::string& error);

  const config::settings& _cfg;
  std::string _bootstrap;
  rk_ptr _reader;  // read_uncommitted consumer handle of the group (never joins it)
};

}  // namespace cg::pipeline
