package rexec

import (
	"strconv"
	"strings"
	"syscall"
)

// Signals travel by name ("SIGKILL"), as rexecd (glibc's sigabbrev_np)
// spells them, and become this platform's numbers here: the server is
// Linux, the client need not be.
var signalsByName = map[string]syscall.Signal{
	"SIGHUP":    syscall.SIGHUP,
	"SIGINT":    syscall.SIGINT,
	"SIGQUIT":   syscall.SIGQUIT,
	"SIGILL":    syscall.SIGILL,
	"SIGTRAP":   syscall.SIGTRAP,
	"SIGABRT":   syscall.SIGABRT,
	"SIGBUS":    syscall.SIGBUS,
	"SIGFPE":    syscall.SIGFPE,
	"SIGKILL":   syscall.SIGKILL,
	"SIGUSR1":   syscall.SIGUSR1,
	"SIGSEGV":   syscall.SIGSEGV,
	"SIGUSR2":   syscall.SIGUSR2,
	"SIGPIPE":   syscall.SIGPIPE,
	"SIGALRM":   syscall.SIGALRM,
	"SIGTERM":   syscall.SIGTERM,
	"SIGCHLD":   syscall.SIGCHLD,
	"SIGCONT":   syscall.SIGCONT,
	"SIGSTOP":   syscall.SIGSTOP,
	"SIGTSTP":   syscall.SIGTSTP,
	"SIGTTIN":   syscall.SIGTTIN,
	"SIGTTOU":   syscall.SIGTTOU,
	"SIGURG":    syscall.SIGURG,
	"SIGXCPU":   syscall.SIGXCPU,
	"SIGXFSZ":   syscall.SIGXFSZ,
	"SIGVTALRM": syscall.SIGVTALRM,
	"SIGPROF":   syscall.SIGPROF,
	"SIGWINCH":  syscall.SIGWINCH,
	// glibc calls SIGIO by its System V name, and only that one is
	// accepted.
	"SIGPOLL": syscall.SIGIO,
	"SIGSYS":  syscall.SIGSYS,
}

var namesBySignal = func() map[syscall.Signal]string {
	names := make(map[syscall.Signal]string, len(signalsByName))
	for name, sig := range signalsByName {
		names[sig] = name
	}
	return names
}()

// Linux's realtime signals, SIGRTMIN..SIGRTMAX as glibc numbers them (the
// two below are its own): they have no abbreviation, and rexecd names
// them "SIG34".
const (
	firstRealtimeSignal = 34
	lastRealtimeSignal  = 64
)

// signalNameOf is the name rexecd takes for a signal: its abbreviation, or
// "SIG<n>" for a realtime one; false for any other number.
func signalNameOf(sig syscall.Signal) (string, bool) {
	if name, ok := namesBySignal[sig]; ok {
		return name, true
	}
	if sig >= firstRealtimeSignal && sig <= lastRealtimeSignal {
		return "SIG" + strconv.Itoa(int(sig)), true
	}
	return "", false
}

// signalByName is the local number of a signal rexecd named, or -1 (as
// syscall.WaitStatus.Signal says "none") when this platform has none:
// realtime signals come as "SIG34".
func signalByName(name string) syscall.Signal {
	if sig, ok := signalsByName[name]; ok {
		return sig
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(name, "SIG")); err == nil && n > 0 {
		return syscall.Signal(n)
	}
	return -1
}
