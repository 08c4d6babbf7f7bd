// OutputChunk is bytes a child wrote, in a block of their own that can be
// handed on whole: a large read of a pipe gives up the buffer it read into
// instead of copying it, and a response's frame adopts the block as it is
// (rpc::BytesFieldFrame), so a child's bulk output reaches gRPC with no
// copy after the kernel's (a small read is copied once, at its size).
//
// Move-only. Not thread-safe; the block may be freed on any thread.
#ifndef REXEC_SERVER_TABLE_OUTPUT_CHUNK_H_
#define REXEC_SERVER_TABLE_OUTPUT_CHUNK_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace rexec::table {

class OutputChunk {
 public:
  // What Release() hands on: the bytes, and `free(owner)` frees them.
  struct Block {
    char* data;
    size_t size;
    void (*free)(void*);
    void* owner;
  };

  OutputChunk() = default;
  // Takes `block`, from malloc(), whose first `size` bytes are the data.
  static OutputChunk Adopt(char* block, size_t size);
  // A copy of `data`, in a block of its size.
  static OutputChunk Copy(absl::string_view data);
  // Takes the string's bytes without copying them.
  explicit OutputChunk(std::string data);

  OutputChunk(OutputChunk&& other) noexcept { *this = std::move(other); }
  OutputChunk& operator=(OutputChunk&& other) noexcept;
  ~OutputChunk() { Free(); }

  absl::string_view view() const { return {block_.data, block_.size}; }
  size_t size() const { return block_.size; }
  bool empty() const { return block_.size == 0; }

  // Gives the block up to the caller, who must call its `free`; this chunk
  // is then empty.
  Block Release() &&;

 private:
  void Free();

  Block block_{nullptr, 0, nullptr, nullptr};
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_OUTPUT_CHUNK_H_
