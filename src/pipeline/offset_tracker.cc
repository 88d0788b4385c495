#include "pipeline/offset_tracker.h"

#include <algorithm>

namespace cg::pipeline {

void offset_tracker::ring::push_back(entry e) {
  if (_size == _buf.size()) {
    // Grow by doubling, unrolling the ring so that the entries start at 0 again.
    std::vector<entry> bigger(_buf.empty() ? 16 : _buf.size() * 2);
    for (std::size_t i = 0; i < _size; ++i) bigger[i] = (*this)[i];
    _buf.swap(bigger);
    _head = 0;
  }
  _buf[(_head + _size) & (_buf.size() - 1)] = e;
  ++_size;
}

offset_tracker::partition_state* offset_tracker::find(std::int32_t partition) {
  const auto it = _parts.find(partition);
  return it == _parts.end() ? nullptr : &it->second;
}

const offset_tracker::partition_state* offset_tracker::find(std::int32_t partition) const {
  const auto it = _parts.find(partition);
  return it == _parts.end() ? nullptr : &it->second;
}

void offset_tracker::assign(std::int32_t partition) {
  auto [it, fresh] = _parts.try_emplace(partition);
  if (!fresh) {
    // Re-assignment: keep the ring's buffer (no allocation), drop everything else.
    _in_flight_total -= it->second.entries.size();
    ring keep = std::move(it->second.entries);
    keep.clear();
    it->second = partition_state{};
    it->second.entries = std::move(keep);
  }
}

std::size_t offset_tracker::revoke(std::int32_t partition) {
  const auto it = _parts.find(partition);
  if (it == _parts.end()) return 0;
  const std::size_t n = it->second.entries.size();
  _in_flight_total -= n;
  _parts.erase(it);
  return n;
}

bool offset_tracker::assigned(std::int32_t partition) const { return find(partition) != nullptr; }

bool offset_tracker::consumed(std::int32_t partition, std::int64_t offset) {
  partition_state* p = find(partition);
  if (p == nullptr || offset < p->min_next) return false;
  p->entries.push_back(entry{offset, state::pending});
  p->min_next = offset + 1;
  ++p->pending;
  ++_in_flight_total;
  return true;
}

bool offset_tracker::completed(std::int32_t partition, std::int64_t offset, bool ok) {
  partition_state* p = find(partition);
  if (p == nullptr || p->entries.empty()) return false;
  // Entries are sorted by offset: binary search over the ring's logical indices.
  std::size_t lo = 0, hi = p->entries.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (p->entries[mid].offset < offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == p->entries.size()) return false;
  entry& e = p->entries[lo];
  if (e.offset != offset || e.st != state::pending) return false;
  e.st = ok ? state::ok : state::failed;
  --p->pending;
  if (!ok && (p->stuck_at < 0 || offset < p->stuck_at)) p->stuck_at = offset;
  if (lo == 0) advance(*p);
  return true;
}

// Drops the OK entries at the front; the last one dropped sets safe. Stops at a pending or
// failed entry, or at the stuck offset: after a rewind an offset at or past it may complete
// OK when consumed again, and must still never be committed.
void offset_tracker::advance(partition_state& p) {
  while (!p.entries.empty()) {
    const entry& e = p.entries.front();
    if (e.st != state::ok || (p.stuck_at >= 0 && e.offset >= p.stuck_at)) break;
    p.safe = e.offset + 1;
    p.entries.pop_front();
    --_in_flight_total;
  }
}

std::int64_t offset_tracker::safe(std::int32_t partition) const {
  const partition_state* p = find(partition);
  return p ? p->safe : -1;
}

std::int64_t offset_tracker::stuck_at(std::int32_t partition) const {
  const partition_state* p = find(partition);
  return p ? p->stuck_at : -1;
}

std::vector<commit_point> offset_tracker::to_commit() const {
  std::vector<commit_point> out;
  to_commit(out);
  return out;
}

void offset_tracker::to_commit(std::vector<commit_point>& out) const {
  out.clear();
  for (const auto& [id, p] : _parts) {
    if (p.safe > p.committed) out.push_back(commit_point{id, p.safe});
  }
  std::sort(out.begin(), out.end(),
            [](const commit_point& a, const commit_point& b) { return a.partition < b.partition; });
}

bool offset_tracker::mark_committed(std::int32_t partition, std::int64_t offset) {
  partition_state* p = find(partition);
  if (p == nullptr || offset < p->committed) return false;
  p->committed = offset;
  return true;
}

bool offset_tracker::commit_failed(std::int32_t partition, std::int64_t offset) {
  partition_state* p = find(partition);
  // Only the latest commit matters: if the mark moved on, that later commit covers this one.
  if (p == nullptr || p->committed != offset || offset < 0) return false;
  p->committed = offset - 1;
  return true;
}

std::int64_t offset_tracker::committed(std::int32_t partition) const {
  const partition_state* p = find(partition);
  return p ? p->committed : -1;
}

std::size_t offset_tracker::rewind(std::int32_t partition, std::int64_t from) {
  partition_state* p = find(partition);
  if (p == nullptr) return 0;
  const std::size_t n = p->entries.size();
  _in_flight_total -= n;
  p->entries.clear();
  p->pending = 0;
  const std::int64_t at = from < 0 ? -1 : from;
  p->committed = at;
  p->safe = p->stuck_at >= 0 ? std::min(at, p->stuck_at) : at;  // never at or past the stuck offset
  p->min_next = at < 0 ? 0 : at;
  return n;
}

std::size_t offset_tracker::in_flight(std::int32_t partition) const {
  const partition_state* p = find(partition);
  return p ? p->entries.size() : 0;
}

std::size_t offset_tracker::pending(std::int32_t partition) const {
  const partition_state* p = find(partition);
  return p ? p->pending : 0;
}

std::int64_t offset_tracker::oldest_in_flight(std::int32_t partition) const {
  const partition_state* p = find(partition);
  return p == nullptr || p->entries.empty() ? -1 : p->entries[0].offset;
}

std::vector<std::int32_t> offset_tracker::partitions() const {
  std::vector<std::int32_t> out;
  out.reserve(_parts.size());
  for (const auto& [id, p] : _parts) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cg::pipeline
