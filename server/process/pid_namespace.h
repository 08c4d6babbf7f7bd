// EnterOwnPidNamespace makes rexecd the init of a PID namespace of its own,
// so that the kernel ends every process rexecd started when rexecd ends, by
// any signal, SIGKILL and the OOM killer included: when a namespace's init
// dies, the kernel kills everything in the namespace (pid_namespaces(7)),
// descendants that called setsid or double-forked, and nested namespaces,
// alike. Nothing of it depends on rexecd getting the chance to clean up.
//
// How: the process started as rexecd (the keeper) unshares a PID and a
// mount namespace and forks; the fork is PID 1 of the new namespace and
// goes on as rexecd, with a /proc of its namespace on /proc (in a mount
// namespace of its own, where only /proc is made private: other mounts
// propagate as they did, a child's mount on a shared one reaching the
// host). The keeper
// does nothing else for the rest of its life: it forwards the signals it
// gets to rexecd and leaves as rexecd left (its exit code, or its signal).
// rexecd dies with the keeper (PR_SET_PDEATHSIG SIGKILL, which reaches a
// namespace's init since it comes from the namespace's parent), so a kill
// -9 of either ends it all. The pids rexecd reports are those of its
// namespace: what its children see as their own (getpid, $$).
//
// A signal sent to both (a terminal's Ctrl-C, `pkill rexecd`, a systemd
// stop of the whole unit) would reach rexecd twice, and a second SIGTERM
// means "stop now"; and a standard signal already pending swallows a second
// one. So the keeper forwards each as a real-time signal (queued, never
// merged) that carries it, and rexecd heeds, from outside its namespace,
// only those (HeededSignal).
//
// Where rexecd is PID 1 already (a container), there is nothing to do.
// Where it may not make the namespace and its /proc (not root, a seccomp
// profile, a user namespace's locked mounts: tried first in a throwaway
// child), or where its /proc has masks a fresh one would undo (a
// container's /dev/null on /proc/kcore, read-only /proc/sys), kAuto goes on
// without and says why: a kill -9 then leaves what its children
// started, and only the children themselves die with it (PR_SET_PDEATHSIG,
// launch_steps.cc).
//
// Call before any thread, socket or secret exists. Not thread-safe.
#ifndef REXEC_SERVER_PROCESS_PID_NAMESPACE_H_
#define REXEC_SERVER_PROCESS_PID_NAMESPACE_H_

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/service_notifier.h"
#include "absl/strings/string_view.h"

namespace rexec::process {

enum class PidNamespaceMode {
  kAuto,  // its own namespace where it may, else the host's (said why)
  kOwn,   // its own namespace, or rexecd does not start
  kHost,  // the namespace it was started in
};

// "auto", "own", "host" (--pid-namespace); false for anything else.
bool ParsePidNamespaceMode(absl::string_view text, PidNamespaceMode* mode);

struct PidNamespace {
  enum class Kind {
    kOwn,        // rexecd is init of a namespace it made; a keeper waits
    kContainer,  // rexecd was started as PID 1
    kHost,       // neither: `why` says why, when kAuto fell back
  };
  Kind kind = Kind::kHost;
  // rexecd's pid as its starter's namespace sees it (the keeper's child).
  pid_t outer_pid = 0;
  std::string why;
  // kOwn with an active notifier: where rexecd writes what the service
  // manager should hear, each message ending in '\0'; the keeper, the
  // process the service manager started and the only one it listens to,
  // relays them. -1 otherwise.
  int notify_fd = -1;
};

// Returns in rexecd (the keeper never returns). Errors: only for kOwn, the
// step that failed and its errno. `notifier` is the service manager's, for
// the keeper to relay to.
absl::StatusOr<PidNamespace> EnterOwnPidNamespace(
    PidNamespaceMode mode, const ServiceNotifier& notifier);

// The signals rexecd acts on (its signal thread's), which the keeper
// forwards.
inline constexpr int kServerSignals[] = {SIGTERM, SIGINT, SIGHUP};
// The real-time signal that carries them from the keeper: rexecd blocks it
// from the start, and reads it with the others.
int ForwardingSignal();

// The signal rexecd acts on for a signal it took (as a signalfd record), or
// 0 for none: a forwarded one, or one sent from inside its namespace;
// without a keeper, any.
int HeededSignal(const PidNamespace& ns, const signalfd_siginfo& signal);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_PID_NAMESPACE_H_
