package rexec

import "syscall"

// The signals only Linux has; on a Linux client a child killed by one
// reports it by number, as a local child would.
func init() {
	for name, sig := range map[string]syscall.Signal{
		"SIGSTKFLT": syscall.SIGSTKFLT,
		"SIGPWR":    syscall.SIGPWR,
	} {
		signalsByName[name] = sig
		namesBySignal[sig] = name
	}
}
