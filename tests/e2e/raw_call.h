// RawCall sends requests on a bare stream of any ChildProcess method (no
// client-side checks, so bad input reaches the server as sent) and reads it
// to the end: what the bad-input tests of every RPC need.
#ifndef REXEC_TESTS_E2E_RAW_CALL_H_
#define REXEC_TESTS_E2E_RAW_CALL_H_

#include <grpcpp/grpcpp.h>

#include <vector>

#include "client/child_session.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {

template <typename Request>
struct RawOutcome {
  std::vector<typename client::Rpc<Request>::Response> responses;
  grpc::Status status;
};

template <typename Request>
RawOutcome<Request> RawCall(v1::ChildProcess::Stub& stub,
                            const std::vector<Request>& requests,
                            bool half_close = true) {
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto stream = client::Rpc<Request>::Open(stub, &ctx);
  for (const Request& r : requests) stream->Write(r);
  if (half_close) stream->WritesDone();
  RawOutcome<Request> outcome;
  typename client::Rpc<Request>::Response response;
  while (stream->Read(&response)) outcome.responses.push_back(response);
  outcome.status = stream->Finish();
  return outcome;
}

}  // namespace rexec::testing

#endif  // REXEC_TESTS_E2E_RAW_CALL_H_
