#pragma once
/// Per input partition: which consumed offsets are still in flight, which completed, and the
/// highest offset that is safe to commit. Kafka-free bookkeeping for the processor.
///
/// Place in the pipeline: the processor's main thread calls consumed() for every message it
/// takes from the consumer, completed() when that message's outputs are all acknowledged (or
/// one failed), and commits what to_commit() lists (at_least_once), or reads safe() for the
/// transaction's offsets (exactly_once). rewind() is the exactly_once abort.
///
/// Threading: NOT thread-safe. One thread (the processor's main thread) owns the tracker and
/// makes every call, including from librdkafka callbacks served on that thread (the offset
/// commit callback → commit_failed(), the rebalance callback → assign()/revoke()).
/// Lifetime: a plain value; it holds no pointers to anything else.
/// Errors: never throws from the per-record calls (consumed, completed, mark_committed,
/// commit_failed); a misuse (unknown partition, an offset out of order, a second completion)
/// returns false and changes nothing. Only container growth may throw std::bad_alloc.
///
/// Offsets: consumed offsets are strictly increasing per partition but may have gaps
/// (compacted topics, transaction markers). Completions come in any order.
/// safe(p) = one past the last consumed offset O such that O and every offset consumed before
/// it (since assignment or the last rewind) completed OK, and O is below stuck_at(p).
/// Memory: completed entries at the front are dropped at once, so a partition holds only its
/// in-flight window, in a ring that grows by doubling and never allocates in steady state.
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace cg::pipeline {

/// A partition and the offset to commit for it (the next offset to consume).
struct commit_point {
  std::int32_t partition{-1};
  std::int64_t offset{-1};
  friend bool operator==(const commit_point&, const commit_point&) = default;
};

class offset_tracker {
 public:
  /// Starts tracking `partition` with fresh state (nothing in flight, safe() -1, committed
  /// mark -1, not stuck). Assigning an assigned partition resets it the same way.
  void assign(std::int32_t partition);
  /// Forgets `partition`. Returns how many of its offsets were in flight (consumed and not
  /// yet covered by safe(): abandoned, the next owner consumes them again); 0 if unknown.
  std::size_t revoke(std::int32_t partition);
  [[nodiscard]] bool assigned(std::int32_t partition) const;

  /// Records that `offset` was taken from `partition`. False (and nothing recorded) when the
  /// partition is not assigned, the offset is negative, not above the last consumed one, or
  /// below the rewind point (a message prefetched before rewind(): it will come again).
  /// Offsets at or past stuck_at() are accepted (they are in flight) but never become safe.
  [[nodiscard]] bool consumed(std::int32_t partition, std::int64_t offset);

  /// Records the outcome of a consumed offset, in any order. ok=false: its output failed; the
  /// partition is stuck at `offset` (or at the lowest failed offset) until re-assigned.
  /// False when the partition is unknown, `offset` is not in flight, or already completed.
  /// O(log in-flight); allocates nothing.
  bool completed(std::int32_t partition, std::int64_t offset, bool ok);

  /// The offset to commit: one past the last offset safely done; -1 when none (nothing
  /// completed since assignment, or the partition is unknown). Never decreases except
  /// through assign() and rewind().
  [[nodiscard]] std::int64_t safe(std::int32_t partition) const;
  /// The lowest offset whose output failed since assignment; -1 when not stuck (or unknown).
  /// Sticky: rewind() keeps it, only assign() clears it.
  [[nodiscard]] std::int64_t stuck_at(std::int32_t partition) const;

  /// Partitions whose safe() is above their committed mark, ordered by partition.
  [[nodiscard]] std::vector<commit_point> to_commit() const;
  /// Same, into `out` (cleared first), so a caller can reuse its buffer.
  void to_commit(std::vector<commit_point>& out) const;
  /// Records that `offset` was committed (or queued for an asynchronous commit). False when
  /// the partition is unknown or `offset` is below the current mark (the mark stays).
  bool mark_committed(std::int32_t partition, std::int64_t offset);
  /// An asynchronous commit of `offset` failed: if the mark is still `offset`, it goes back
  /// (to offset - 1) so to_commit() lists the partition again. False (nothing changed) when
  /// the partition is unknown or a later commit has moved the mark since.
  bool commit_failed(std::int32_t partition, std::int64_t offset);
  /// The committed mark: the last offset passed to mark_committed() (lowered by
  /// commit_failed(), set by rewind()); -1 when none or unknown.
  [[nodiscard]] std::int64_t committed(std::int32_t partition) const;

  /// exactly_once abort: drops every in-flight offset of `partition`; its messages will be
  /// consumed again from `from`, the group's committed offset (-1 for none). safe() and the
  /// committed mark become `from` (-1 if negative); consumed() then refuses offsets below
  /// `from`. stuck_at() is kept (safe() stays at or below it). Returns how many offsets were
  /// dropped; 0 if unknown.
  std::size_t rewind(std::int32_t partition, std::int64_t from);

  /// Offsets of `partition` consumed and not yet covered by safe() (pending, completed behind
  /// a pending one, or at/after the stuck offset). 0 if unknown.
  [[nodiscard]] std::size_t in_flight(std::int32_t partition) const;
  /// Of those, the ones not yet completed (what a drain waits for). 0 if unknown.
  [[nodiscard]] std::size_t pending(std::int32_t partition) const;
  /// in_flight() summed over all assigned partitions. O(1).
  [[nodiscard]] std::size_t in_flight_total() const { return _in_flight_total; }
  /// The lowest in-flight offset of `partition`; -1 when none or unknown.
  [[nodiscard]] std::int64_t oldest_in_flight(std::int32_t partition) const;
  /// The assigned partitions, ordered.
  [[nodiscard]] std::vector<std::int32_t> partitions() const;

 private:
  enum class state : std::uint8_t { pending, ok, failed };
  struct entry {
    std::int64_t offset;
    state st;
  };

  // A ring of entries in consume order (so sorted by offset): O(1) push_back / pop_front /
  // index, capacity a power of two, grown by doubling.
  class ring {
   public:
    [[nodiscard]] std::size_t size() const { return _size; }
    [[nodiscard]] bool empty() const { return _size == 0; }
    entry& operator[](std::size_t i) { return _buf[(_head + i) & (_buf.size() - 1)]; }
    const entry& operator[](std::size_t i) const { return _buf[(_head + i) & (_buf.size() - 1)]; }
    entry& front() { return (*this)[0]; }
    void push_back(entry e);
    void pop_front() {
      _head = (_head + 1) & (_buf.size() - 1);
      --_size;
    }
    void clear() { _head = _size = 0; }

   private:
    std::vector<entry> _buf;
    std::size_t _head{0};
    std::size_t _size{0};
  };

  struct partition_state {
    ring entries;                // in flight, consume order
    std::int64_t min_next{0};    // consumed() refuses offsets below this
    std::int64_t safe{-1};       // see safe()
    std::int64_t committed{-1};  // see committed()
    std::int64_t stuck_at{-1};   // see stuck_at()
    std::size_t pending{0};      // entries still pending
  };

  partition_state* find(std::int32_t partition);
  [[nodiscard]] const partition_state* find(std::int32_t partition) const;
  void advance(partition_state& p);

  std::unordered_map<std::int32_t, partition_state> _parts;
  std::size_t _in_flight_total{0};
};

}  // namespace cg::pipeline
