#include "emit/json_buffer.h"

#include <algorithm>

namespace cg::emit {

void output_buffer::grow(std::size_t n) {
  const std::size_t size = this->size();
  const std::size_t cap =
      capacity() == 0 ? std::max<std::size_t>(n, std::size_t{1} << 16) : std::max(size + n, 2 * capacity());
  auto data = std::make_unique_for_overwrite<char[]>(cap);
  if (size > 0) std::memcpy(data.get(), _data.get(), size);
  _data = std::move(data);
  _top = _data.get() + size;
  _limit = _data.get() + cap;
}

void output_buffer::reserve_exact(std::size_t n) {
  if (capacity() != 0) {
    reserve(n);
    return;
  }
  _data = std::make_unique_for_overwrite<char[]>(n);
  _top = _data.get();
  _limit = _data.get() + n;
}

}  // namespace cg::emit
