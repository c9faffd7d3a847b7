// The fault suite's main(): the mount namespace must be set up while the
// process is still single-threaded (a user namespace requires it).
#include <gtest/gtest.h>

#include "fault_support.hpp"

int main(int argc, char** argv) {
  tp_fault::setup_mount_namespace();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
