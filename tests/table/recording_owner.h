// RecordingOwner is a ChildHandle::Owner that records what it hears, for
// the table's unit tests: output by stream, lost bytes, input written,
// refusals, the exit (once, and never after done), and whether it is done.
// For the test's thread; not thread-safe.
#ifndef REXEC_TESTS_TABLE_RECORDING_OWNER_H_
#define REXEC_TESTS_TABLE_RECORDING_OWNER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "server/table/child_handle.h"

namespace rexec::table {

class RecordingOwner : public ChildHandle::Owner {
 public:
  size_t OutputRoom() override { return room ? SIZE_MAX : 0; }
  void OnOutput(ChildHandle::Stream stream, OutputChunk data) override {
    (stream == ChildHandle::Stream::kStdout ? out : err)
        .append(data.view().data(), data.size());
  }
  void OnLost(ChildHandle::Stream stream, uint64_t bytes,
              uint64_t resume_offset) override {
    lost += bytes;
    resumed_at = resume_offset;
  }
  void OnInputWritten(ChildHandle::Input input) override { ++written; }
  void OnRefused(absl::Status status) override { refused = status; }
  void OnExit(ExitReport report) override {
    EXPECT_FALSE(exit.has_value()) << "two exits";
    EXPECT_FALSE(done) << "exit after done";
    exit = report;
  }
  void OnCaughtUp() override { caught_up = true; }
  void OnSupervisorDone() override { done = true; }

  bool room = true;
  std::string out, err;
  uint64_t lost = 0, resumed_at = 0;
  int written = 0;
  absl::Status refused;
  std::optional<ExitReport> exit;
  bool caught_up = false;
  bool done = false;
};

}  // namespace rexec::table

#endif  // REXEC_TESTS_TABLE_RECORDING_OWNER_H_
