// StdioPump moves a supervised child's bytes: it reads stdout, stderr (or
// the terminal) and the IPC channel as the sink has room, and writes what
// is queued for stdin and the channel as the child takes it, never more
// than a bound waiting. Readiness comes from the poller as bell events (the
// bits below); the bytes are read and written on the executor's thread.
//
// The channel and a terminal are one fd each, read and written: one watch
// serves both directions (a running child costs the server no fd more), and
// whichever fires, each direction looks again and the watch is armed anew
// for what both still wait for.
//
// Owned by its Supervisor, on its executor thread; not thread-safe.
#ifndef REXEC_SERVER_TABLE_STDIO_PUMP_H_
#define REXEC_SERVER_TABLE_STDIO_PUMP_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/process/child.h"
#include "server/process/poller.h"
#include "server/table/bell.h"
#include "server/table/child_handle.h"
#include "server/table/output_chunk.h"
#include "server/table/process_events.h"

namespace rexec::table {

class StdioPump {
 public:
  using Stream = ChildHandle::Stream;
  using Input = ChildHandle::Input;

  // The bell's bits the pump uses: one per output stream, one per input,
  // and a turn for output left over from the last.
  static constexpr uint32_t OutputBit(int stream) { return 1u << stream; }
  static constexpr uint32_t InputBit(int input) { return 1u << (3 + input); }
  static constexpr uint32_t kMoreOutput = 1u << 5;
  static constexpr uint32_t kFirstFreeBit = 1u << 6;

  // What a session's stdin may have waiting for the child: chunks (a close
  // or an EOF key is one) and bytes. An attachment's chunk is at most a
  // gRPC message (4 MiB).
  static constexpr size_t kMaxQueuedChunks = 256;
  static constexpr size_t kMaxQueuedBytes = 16 << 20;

  // Where the bytes go, and who hears of input taken.
  class Sink {
   public:
    virtual ~Sink() = default;
    // Bytes the next read may take; 0: none (see ChildHandle::Owner).
    virtual size_t OutputRoom() = 0;
    virtual void OnOutput(Stream stream, OutputChunk data) = 0;
    // A chunk queued without `done` (the owner's) was written or dropped.
    virtual void OnInputWritten(Input input) = 0;
    // The child closed the channel, or the drain timeout closed it.
    virtual void OnChannelEnded() = 0;
  };

  // One chunk for an input, with whom to tell when it is written (or
  // dropped): `done`, or the sink when it has none. A `close` chunk closes
  // the input when its turn comes.
  struct Chunk {
    std::string data;
    std::function<void(absl::Status)> done;
    bool close = false;
  };

  StdioPump(process::Poller* poller, ProcessEvents* events, const Bell* bell,
            Sink* sink)
      : poller_(poller), events_(events), bell_(bell), sink_(sink) {}
  ~StdioPump();

  // Takes the new child's pipes, terminal and channel, and watches its
  // outputs.
  absl::Status Connect(process::Child& child);

  // From a bell's turn: outputs that became readable are read again by
  // Pump(); inputs with room take what waits for them.
  void TakeReadiness(uint32_t events);
  void FlushReady(uint32_t events);
  // Reads as the sink has room; true when done for now, false when a
  // turn's worth was read and the rest waits for kMoreOutput.
  bool Pump();

  // A session's senders give `done`; the owner has one chunk at a time.
  void Queue(Input input, Chunk chunk);
  void CloseInput(Input input);
  // Closes the channel both ways at once; unread messages are dropped.
  void CloseChannel();
  // Closes the channel and tells the sink (OnChannelEnded).
  void EndChannel();
  void CloseOutput(Stream stream);
  // Closes both inputs and drops what waits for them (at the exit's
  // report); senders' `done` hear OK.
  void DropInputs();
  bool AnyOutputOpen() const;
  // Closes everything and lets go of the child's fds: before the child
  // goes (a start that failed half-way, the supervisor's end).
  void Disconnect();

  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  struct PendingInput;
  struct Output {
    process::UniqueFd* fd = nullptr;
    process::Poller::WatchId watch = 0;
    bool open = false;
    bool armed = false;
    bool small_pipe = false;         // a pipe not grown yet (GrowPipe)
    PendingInput* shared = nullptr;  // the input written to the same fd
  };
  struct PendingInput {
    process::UniqueFd* fd = nullptr;
    process::Poller::WatchId watch = 0;  // its own fd's
    std::deque<Chunk> chunks;  // the front is being written
    size_t offset = 0;         // into the front's data
    size_t bytes = 0;          // of the chunks' data
    Output* shared = nullptr;  // the output read from the same fd, whose
                               // watch and fd these are
    bool closed = false;       // (shared) no more is written
    bool waiting = false;      // for room (EPOLLOUT)
    bool small_pipe = false;   // a pipe not grown yet (GrowPipe)
  };

  absl::Status WatchOutputs();
  void Flush(Input input);
  // Reads up to `max` bytes; false when the stream has nothing more for
  // now.
  bool ReadChunk(Stream stream, size_t max);
  void CloseInputFd(PendingInput& in);
  bool Writable(const PendingInput& in) const {
    return in.fd != nullptr && in.fd->Valid() && !in.closed;
  }
  // Waits for room to write `in` (EPOLLOUT).
  absl::Status WaitForRoom(Input input, PendingInput& in);
  // The events a shared fd's watch waits for now, both directions'.
  static uint32_t SharedEvents(const Output& out);

  process::Poller* const poller_;
  ProcessEvents* const events_;
  const Bell* const bell_;
  Sink* const sink_;
  pid_t pid_ = 0;  // for the log

  process::UniqueFd channel_;  // valid while the channel is open
  Output outputs_[3];
  PendingInput inputs_[2];
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_STDIO_PUMP_H_
