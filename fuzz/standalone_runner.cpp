// Replays fuzz inputs (files, or every file in given directories) through
// LLVMFuzzerTestOneInput without libFuzzer, for compilers that have none (GCC).
//
// A target reports a broken property by aborting, or by returning a value libFuzzer does not
// accept (0 = keep, -1 = reject from the corpus): the runner names every such input and exits 1.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// True when the target accepted the input (returned 0 or -1).
bool run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read\n", p.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const int rc =
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (rc != 0 && rc != -1) {
    std::fprintf(stderr, "%s: target returned %d\n", p.c_str(), rc);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 0;
  std::size_t failed = 0;
  auto run = [&](const std::filesystem::path& p) {
    ++n;
    failed += run_file(p) ? 0 : 1;
  };
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) {
          run(e.path());
        }
      }
    } else {
      run(arg);
    }
  }
  if (n == 0) {
    std::fprintf(stderr, "no inputs replayed\n");
    return 1;
  }
  std::printf("replayed %zu inputs, %zu failed\n", n, failed);
  return failed == 0 ? 0 : 1;
}
