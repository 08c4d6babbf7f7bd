#include "client/health_command.h"

#include <unistd.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "client/command_support.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace rexec::client {

int RunHealthCommand(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& service, int out_fd, int err_fd,
                     const SessionOptions& options) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  if (options.deadline) ctx.set_deadline(absl::ToChronoTime(*options.deadline));
  if (!options.bearer_token.empty()) {
    ctx.AddMetadata("authorization", "Bearer " + options.bearer_token);
  }
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&ctx, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    WriteAll(err_fd, absl::StrCat("rexec: the server has no service \"",
                                  service, "\" to report on\n"));
    return 1;
  }
  if (!status.ok()) return ReportCallEnd(status, err_fd, options.tls);
  WriteAll(
      out_fd,
      absl::StrCat(grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                       response.status()),
                   "\n"));
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : 1;
}

void HealthCommand::AddTo(CLI::App& app) {
  command_ = app.add_subcommand(
      "health",
      "ask the server's health service; prints SERVING (exit 0) or another "
      "status (exit 1)");
  command_->add_option("--service", service_,
                       "the service to ask about, e.g. rexec.v1.ChildProcess "
                       "(default: the server as a whole)");
}

const CLI::App* HealthCommand::Chosen() const {
  return command_->parsed() ? command_ : nullptr;
}

int HealthCommand::Run(const Target& target) {
  return RunOnServer(target.connect, SignalUse::kLeave, [&](const Call& call) {
    return RunHealthCommand(call.connection.channel, service_, STDOUT_FILENO,
                            STDERR_FILENO, call.session);
  });
}

}  // namespace rexec::client
