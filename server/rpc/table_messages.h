// The table's types to and from the API's messages: the edge where
// server/table's domain types meet rexec.v1 (and the plan room's launch
// request, which a session keeps opaque to the table).
#ifndef REXEC_SERVER_RPC_TABLE_MESSAGES_H_
#define REXEC_SERVER_RPC_TABLE_MESSAGES_H_

#include "absl/time/time.h"
#include "rexec/v1/child_process.pb.h"
#include "server/plan/launch_plan.h"
#include "server/table/exit_report.h"
#include "server/table/process_table.h"

namespace rexec::rpc {

v1::TerminationReason ToProto(table::TerminationReason reason);
void ToProto(const table::ExitReport& exit, v1::ExitStatus* proto);
void ToProto(absl::Duration d, google::protobuf::Duration* proto);
table::WindowRequest FromProto(const v1::Resize& resize);
// The session as List and Attach show it.
void ToProto(const table::Session& session, v1::SessionInfo* info);

// What a session's call asked for (kept in Session::launch when the server
// has a policy), or null.
const plan::LaunchRequest* LaunchOf(const table::Session& session);

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_TABLE_MESSAGES_H_
