package rexec

import (
	"context"
	"regexp"
	"sync/atomic"

	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The receive limits, in bytes, of a client's calls (see README.md,
// "Limits on what a server sends").
const (
	// DefaultReceiveLimit is the largest message a call takes from the
	// server unless WithReceiveLimit says otherwise: 4 times rexecd's
	// largest output chunk (1 MiB).
	DefaultReceiveLimit = 4 << 20
	// execResultSlack is what an Exec result holds besides its output:
	// the exit, the framing of the fields.
	execResultSlack = 64 << 10
	// defaultMaxBuffer is the max_buffer of an Exec call that gives 0.
	defaultMaxBuffer = 1 << 20
)

// ExecReceiveLimit is the call option for a raw Exec call through Conn
// whose ExecStart asks for maxBuffer bytes per stream (0: rexecd's 1 MiB):
// its result may take 2*maxBuffer + 64 KiB, more than the connection's
// limit when maxBuffer is over about 2 MiB.
//
//	stream, err := rexecpb.NewChildProcessClient(c.Conn()).Exec(ctx, rexec.ExecReceiveLimit(maxBuffer))
func ExecReceiveLimit(maxBuffer uint64) grpc.CallOption {
	if maxBuffer == 0 {
		maxBuffer = defaultMaxBuffer
	}
	limit := 2*maxBuffer + execResultSlack
	if limit > maxMessageLimit || limit < maxBuffer {
		limit = maxMessageLimit
	}
	return grpc.MaxCallRecvMsgSize(int(limit))
}

// The largest limit grpc-go can keep to: it reads a message's length as
// an int32.
const maxMessageLimit = 1<<31 - 1

// grpc-go's words for a message over the receive limit.
var tooLarge = regexp.MustCompile(`^grpc: received message larger than max \((\d+) vs\. (\d+)\)$`)

// receiveGuard is the interceptors of every connection of a Client to
// target: an error for a message over the limit says whose message and
// which limit, and an Exec result with more output than the call's
// max_buffer (a server that ignored it) is refused, the call then failing.
// Immutable; safe for concurrent use.
type receiveGuard struct{ target string }

func (g receiveGuard) unary(ctx context.Context, method string, req, reply interface{},
	cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return g.explain(invoker(ctx, method, req, reply, cc, opts...))
}

func (g receiveGuard) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
	method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	stream, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, g.explain(err)
	}
	return &guardedStream{ClientStream: stream, guard: g}, nil
}

// explain rewrites grpc-go's error for a message over the limit, which
// names neither the server nor whose limit it is.
func (g receiveGuard) explain(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.ResourceExhausted {
		return err
	}
	match := tooLarge.FindStringSubmatch(st.Message())
	if match == nil {
		return err
	}
	return status.Errorf(codes.ResourceExhausted,
		"rexec: message from %s of %s bytes exceeds the receive limit of %s bytes "+
			"(WithReceiveLimit; ExecReceiveLimit for an Exec call)", g.target, match[1], match[2])
}

// guardedStream is one call's stream under a receiveGuard. maxBuffer is
// stored by the Send of an Exec start, on the sender's goroutine, and
// loaded by Recv, on the receiver's: 0 until then.
type guardedStream struct {
	grpc.ClientStream
	guard     receiveGuard
	maxBuffer atomic.Uint64
}

func (s *guardedStream) SendMsg(m interface{}) error {
	if request, ok := m.(*rexecpb.ExecRequest); ok && request.GetStart() != nil {
		maxBuffer := request.GetStart().MaxBuffer
		if maxBuffer == 0 {
			maxBuffer = defaultMaxBuffer
		}
		s.maxBuffer.Store(maxBuffer)
	}
	return s.ClientStream.SendMsg(m)
}

// RecvMsg refuses what no server keeping to the protocol sends: an exit no
// process can have (checkExit), an Exec result longer than its max_buffer.
// The message is then cleared, so that nothing of it is kept, and the
// error is the call's: the caller ends the call (cancels its context).
func (s *guardedStream) RecvMsg(m interface{}) error {
	if err := s.ClientStream.RecvMsg(m); err != nil {
		return s.guard.explain(err)
	}
	err := s.refusal(m)
	if err != nil {
		if message, ok := m.(interface{ Reset() }); ok {
			message.Reset()
		}
	}
	return err
}

func (s *guardedStream) refusal(m interface{}) error {
	var exit *rexecpb.ExitStatus
	switch response := m.(type) {
	case *rexecpb.SpawnResponse:
		exit = response.GetExit()
	case *rexecpb.ForkResponse:
		exit = response.GetExit()
	case *rexecpb.AttachResponse:
		exit = response.GetExit()
	case *rexecpb.ExecResponse:
		result := response.GetResult()
		if result == nil {
			return nil
		}
		maxBuffer := s.maxBuffer.Load()
		if maxBuffer == 0 {
			maxBuffer = defaultMaxBuffer
		}
		for name, data := range map[string][]byte{"stdout": result.Stdout, "stderr": result.Stderr} {
			if uint64(len(data)) > maxBuffer {
				return status.Errorf(codes.ResourceExhausted, "rexec: the Exec result from %s has %d bytes of "+
					"%s, more than the max_buffer of %d the call asked for", s.guard.target, len(data), name, maxBuffer)
			}
		}
		if result.Exit == nil {
			return status.Errorf(codes.Unknown, "rexec: %s sent an Exec result without an exit", s.guard.target)
		}
		exit = result.Exit
	}
	if exit == nil {
		return nil
	}
	if err := checkExit(exit); err != nil {
		return status.Errorf(codes.Unknown, "rexec: %s sent %v", s.guard.target, err)
	}
	return nil
}
