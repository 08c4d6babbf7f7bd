#include "server/table/output_chunk.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace rexec::table {
namespace {

void FreeString(void* owner) { delete static_cast<std::string*>(owner); }
void FreeBlock(void* block) { std::free(block); }

}  // namespace

OutputChunk OutputChunk::Adopt(char* block, size_t size) {
  OutputChunk chunk;
  chunk.block_ = {block, size, &FreeBlock, block};
  return chunk;
}

OutputChunk OutputChunk::Copy(absl::string_view data) {
  // malloc(0) may return null; a block of one byte keeps the rule simple.
  char* block = static_cast<char*>(std::malloc(data.empty() ? 1 : data.size()));
  if (block == nullptr) throw std::bad_alloc();
  if (!data.empty()) std::memcpy(block, data.data(), data.size());
  return Adopt(block, data.size());
}

OutputChunk::OutputChunk(std::string data) {
  auto* owner = new std::string(std::move(data));
  block_ = {owner->data(), owner->size(), &FreeString, owner};
}

OutputChunk& OutputChunk::operator=(OutputChunk&& other) noexcept {
  if (this != &other) {
    Free();
    block_ = std::exchange(other.block_, Block{nullptr, 0, nullptr, nullptr});
  }
  return *this;
}

OutputChunk::Block OutputChunk::Release() && {
  return std::exchange(block_, Block{nullptr, 0, nullptr, nullptr});
}

void OutputChunk::Free() {
  if (block_.free != nullptr) block_.free(block_.owner);
  block_ = {nullptr, 0, nullptr, nullptr};
}

}  // namespace rexec::table
