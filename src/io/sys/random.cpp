#include "io/sys/random.hpp"

#include <random>

namespace gf::io {

std::uint64_t SystemRandom::next_u64() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

std::uint64_t SecureRandom::next_u64() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace gf::io
