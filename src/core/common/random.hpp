#pragma once
// RandomSource: randomness as the core gets it, injected like time (the core never reads
// std::random_device or a clock). Production passes io::SystemRandom (src/io/sys/random.hpp,
// seeded from the operating system); tests and simulations pass SplitMix64 with a fixed seed,
// so ids and keys are reproducible.
//
// Threading: an implementation says; SystemRandom is safe from any thread, SplitMix64 uses an
// atomic counter so it is too. Errors: none.
#include <atomic>
#include <cstdint>

namespace gf {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // 64 uniformly distributed bits.
  virtual std::uint64_t next_u64() = 0;
};

// Steele, Lea and Flood's SplitMix64: a counter through a 64-bit mixer. Not for secrets.
class SplitMix64 final : public RandomSource {
 public:
  explicit SplitMix64(std::uint64_t seed = 0) : state_(seed) {}
  std::uint64_t next_u64() override {
    std::uint64_t z =
        state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::atomic<std::uint64_t> state_;
};

}  // namespace gf
