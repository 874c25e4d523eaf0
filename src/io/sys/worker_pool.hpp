#pragma once
// parallel_for: the one worker pool of the bulk commands (`greyflux learn`, `greyflux classify`)
// and anything else that runs a batch of independent items on every core and waits for them.
//
// Flow: `threads` workers (the calling thread is one of them) take indexes 0..n-1 from a shared
// counter, each index exactly once, and parallel_for returns when every body call has returned.
// Results go where the body puts them (by index), so output order does not depend on timing.
//
// Threading: `body` runs on several threads at once and must be safe for that. Errors: an
// exception escaping `body` terminates (as from any std::thread); bodies report through values.
#include <cstddef>
#include <functional>

namespace gf::io {

// Worker threads for bulk work: the cores the machine reports, at least 1.
[[nodiscard]] unsigned default_threads();

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& body);

// parallel_for with default_threads(), in the shape core's bulk functions take (spamd::ForEach).
void parallel_for_each(std::size_t n, const std::function<void(std::size_t)>& body);

}  // namespace gf::io
