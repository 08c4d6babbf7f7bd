// The one place where absl::Status becomes grpc::Status (containerd's
// errgrpc.ToGRPC). The canonical codes are the same numbers in both.
#ifndef REXEC_SERVER_RPC_GRPC_STATUS_H_
#define REXEC_SERVER_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace rexec::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_GRPC_STATUS_H_
