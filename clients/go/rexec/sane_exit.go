package rexec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rexec/rexec/clients/go/rexecpb"
)

// checkExit says what is wrong with an exit that no process can have,
// which a broken or hostile server may send: an exit code outside 0-255
// (256 read as a wait status would be 0, success), a signal Linux does not
// have, or neither. nil for a sane one. Pure; safe for concurrent use.
func checkExit(exit *rexecpb.ExitStatus) error {
	switch status := exit.Status.(type) {
	case *rexecpb.ExitStatus_Code:
		if status.Code < 0 || status.Code > 255 {
			return fmt.Errorf("exit code %d, outside 0-255", status.Code)
		}
		return nil
	case *rexecpb.ExitStatus_Signal:
		if !isSignalName(status.Signal) {
			return fmt.Errorf("signal %q, which Linux does not have", status.Signal)
		}
		return nil
	default:
		return fmt.Errorf("an exit with neither a code nor a signal")
	}
}

// isSignalName is whether rexecd could name a signal so: an abbreviation,
// or "SIG<n>" for one without (up to lastRealtimeSignal).
func isSignalName(name string) bool {
	if _, ok := signalsByName[name]; ok {
		return true
	}
	digits := strings.TrimPrefix(name, "SIG")
	n, err := strconv.Atoi(digits)
	return err == nil && strconv.Itoa(n) == digits && n >= 1 && n <= lastRealtimeSignal
}
