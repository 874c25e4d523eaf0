#pragma once
// The production RandomSources. SystemRandom: a per-thread mt19937_64 seeded from
// std::random_device, for ids that must be unique, not secret (check GUIDs; no system call
// after a thread's first). SecureRandom: every bit from std::random_device (the kernel's
// generator), for secrets (API keys). Both are safe from any thread.
#include "core/common/random.hpp"

namespace gf::io {

class SystemRandom final : public RandomSource {
 public:
  std::uint64_t next_u64() override;
};

class SecureRandom final : public RandomSource {
 public:
  std::uint64_t next_u64() override;
};

}  // namespace gf::io
