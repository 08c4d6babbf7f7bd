package rexec

import (
	"context"
	"time"
)

// valuesOnly is a context with its parent's values (gRPC metadata, traces)
// and without its deadline and cancellation (Go 1.21's
// context.WithoutCancel, which Go 1.19 lacks). Safe for concurrent use.
type valuesOnly struct{ parent context.Context }

func (valuesOnly) Deadline() (time.Time, bool)         { return time.Time{}, false }
func (valuesOnly) Done() <-chan struct{}               { return nil }
func (valuesOnly) Err() error                          { return nil }
func (v valuesOnly) Value(key interface{}) interface{} { return v.parent.Value(key) }
