// The main() of every test executable. The GPU suite (built with NCF_GPU_SUITE) checks first
// whether a GPU answers; when none does it lists each of its test cases as skipped, by name, and
// exits with 77, the code ctest is told to report as "Skipped".
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "tensor/device.h"

int main(int argc, char** argv) {
#ifdef NCF_GPU_SUITE
  if (!ncf::cuda_available()) {
    std::printf("SKIPPED: no GPU answers here (%s); every test case listed below is skipped.\n",
                ncf::cuda_unavailable_reason().c_str());
    const char* list_argv[] = {argv[0], "--list-test-cases"};
    doctest::Context listing(2, list_argv);
    listing.run();
    return 77;
  }
#endif
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
