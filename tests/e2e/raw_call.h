// RawCall sends requests on a bare stream of any ChildProcess method (no
// client-side checks, so bad input reaches the server as sent) and reads it
// to the end: what the bad-input tests of every RPC need.
#ifndef REXEC_TESTS_E2E_RAW_CALL_H_
#define REXEC_TESTS_E2E_RAW_CALL_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

// One bad input: the requests (the stream is half-closed only when there
// are none, so that the others must fail on their own) and how it must end.
template <typename Request>
struct BadInput {
  std::vector<Request> requests;
  grpc::StatusCode code;
  std::string message;  // a substring of the status message
};

template <typename Request>
void ExpectEachFails(v1::ChildProcess::Stub& stub,
                     const std::vector<BadInput<Request>>& cases) {
  for (const BadInput<Request>& c : cases) {
    RawOutcome<Request> e =
        RawCall<Request>(stub, c.requests, c.requests.empty());
    EXPECT_EQ(e.status.error_code(), c.code) << c.message;
    EXPECT_THAT(e.status.error_message(), ::testing::HasSubstr(c.message));
  }
}

}  // namespace rexec::testing

#endif  // REXEC_TESTS_E2E_RAW_CALL_H_
