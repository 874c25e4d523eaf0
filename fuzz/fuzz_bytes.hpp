#pragma once
// The fuzz input read one byte at a time by the stateful fuzzers, which turn each byte into an
// action (a request, time passing, a failing store ...). Past the end it reads zeros, so an
// action that wants an argument byte never reads out of bounds.
#include <cstddef>
#include <cstdint>

namespace gf::fuzz {

class Bytes {
 public:
  Bytes(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  std::uint8_t next() { return i_ < n_ ? d_[i_++] : 0; }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t i_ = 0;
};

}  // namespace gf::fuzz
