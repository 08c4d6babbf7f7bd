// The calls read and write raw frames (grpc::ByteBuffer) and turn them into
// messages here, instead of letting gRPC do it: when gRPC's own parse of a
// request fails, the read just completes with ok == false, which looks
// exactly like the client half-closing, so a garbage frame used to end a
// call with OK. Parsing it ourselves, a bad frame becomes an error that
// says what was wrong with it.
//
// Thread-safe (stateless, but for the process-wide protobuf log handler that
// ParseRequest installs once).
#ifndef REXEC_SERVER_RPC_WIRE_MESSAGE_H_
#define REXEC_SERVER_RPC_WIRE_MESSAGE_H_

#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "server/table/output_chunk.h"

namespace rexec::rpc {

// Parses request number `index` (1-based, for the message) of a call.
// INVALID_ARGUMENT naming the problem: not protobuf at all, invalid UTF-8 in
// a string field (and which), or nested past protobuf's recursion limit.
absl::Status ParseRequest(grpc::ByteBuffer& frame, int index,
                          google::protobuf::Message* request);

// The frame for a response. Only fails on a broken invariant (a message
// over 2 GiB), which is INTERNAL.
absl::Status SerializeResponse(const google::protobuf::Message& response,
                               grpc::ByteBuffer* frame);

// The frame of a response whose one field set is `bytes` field number
// `field` holding `data`: protobuf encodes it as the field's tag, its length
// and the bytes as they are, so `data`'s block becomes the frame's body,
// not copied (gRPC frees it when the frame is written). A child's output
// goes out this way: serializing would copy each chunk once more.
grpc::ByteBuffer BytesFieldFrame(int field, table::OutputChunk data);

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_WIRE_MESSAGE_H_
