package rexec

import (
	"context"
	"math"
	"net"
	"sync/atomic"

	"google.golang.org/grpc/credentials"
)

// A server takes at most SETTINGS_MAX_CONCURRENT_STREAMS calls at once on
// one HTTP/2 connection (rexecd's --max-streams-per-connection), and
// grpc-go makes a call past that wait, silently, for one to end. grpc-go
// does not say what the server announced, so each connection's bytes from
// the server pass through a frameScanner on their way to grpc-go, which
// notes the limit in a streamLimit.

// streamLimit is the last SETTINGS_MAX_CONCURRENT_STREAMS of a
// connection's server, 0 until the server's first SETTINGS frame arrived.
// Safe for concurrent use.
type streamLimit struct{ max atomic.Uint32 }

// watch wraps a connection to the server so that its SETTINGS frames set
// the limit.
func (l *streamLimit) watch(conn net.Conn) net.Conn {
	return &settingsWatcher{Conn: conn, scanner: frameScanner{limit: l}}
}

// settingsWatcher is a connection whose reads go through a frameScanner.
// grpc-go reads from one goroutine, as the scanner needs.
type settingsWatcher struct {
	net.Conn
	scanner frameScanner
}

func (w *settingsWatcher) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.scanner.scan(p[:n])
	return n, err
}

// frameScanner follows the HTTP/2 frames a server sends (RFC 9113 §4.1: a
// 9-byte header, then the payload whose length it gives) and reads the
// settings of each SETTINGS frame that is not an ACK (§6.5: 6-byte
// entries). It looks at no other payload, and holds at most a header and an
// entry: a hostile server costs it a pass over what grpc-go reads anyway.
// Not safe for concurrent use.
type frameScanner struct {
	limit *streamLimit

	header    [9]byte
	headerLen int
	remaining uint32 // of the current frame's payload
	settings  bool   // the current frame is a SETTINGS frame to read
	entry     [6]byte
	entryLen  int
	seenLimit bool // the current SETTINGS frame set the limit
	seenFirst bool // a first SETTINGS frame ended
}

const (
	frameTypeSettings            = 0x4
	settingsFlagAck              = 0x1
	settingsMaxConcurrentStreams = 0x3
)

func (s *frameScanner) scan(p []byte) {
	for len(p) > 0 {
		if s.headerLen < len(s.header) {
			n := copy(s.header[s.headerLen:], p)
			s.headerLen += n
			p = p[n:]
			if s.headerLen == len(s.header) {
				h := s.header
				s.remaining = uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2])
				s.settings = h[3] == frameTypeSettings && h[4]&settingsFlagAck == 0
				s.entryLen, s.seenLimit = 0, false
				s.endFrameIfRead()
			}
			continue
		}
		n := uint32(len(p))
		if n > s.remaining {
			n = s.remaining
		}
		if s.settings {
			for _, b := range p[:n] {
				s.entry[s.entryLen] = b
				if s.entryLen++; s.entryLen == len(s.entry) {
					s.entryLen = 0
					e := s.entry
					if uint16(e[0])<<8|uint16(e[1]) == settingsMaxConcurrentStreams {
						s.seenLimit = true
						s.setLimit(uint32(e[2])<<24 | uint32(e[3])<<16 | uint32(e[4])<<8 | uint32(e[5]))
					}
				}
			}
		}
		s.remaining -= n
		p = p[n:]
		s.endFrameIfRead()
	}
}

// endFrameIfRead starts the next frame once the payload is all read. A
// first SETTINGS frame without the limit means none, as grpc-go takes it.
func (s *frameScanner) endFrameIfRead() {
	if s.remaining > 0 {
		return
	}
	if s.settings && !s.seenFirst {
		s.seenFirst = true
		if !s.seenLimit {
			s.setLimit(math.MaxUint32)
		}
	}
	s.headerLen = 0
}

// setLimit stores a limit. 0 (no call at all, for now) is stored as 1, so
// that 0 keeps meaning "not known yet": one call then waits in grpc-go on
// each such connection, and there are never more connections than calls.
func (s *frameScanner) setLimit(max uint32) {
	if max == 0 {
		max = 1
	}
	s.limit.max.Store(max)
}

// watchedCredentials are TLS credentials whose connections go through a
// streamLimit's watch once the handshake is done: the scanner must read
// what TLS decrypted.
type watchedCredentials struct {
	credentials.TransportCredentials
	limit *streamLimit
}

func (w watchedCredentials) ClientHandshake(ctx context.Context, authority string,
	raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := w.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		return nil, nil, err
	}
	return w.limit.watch(conn), info, nil
}

func (w watchedCredentials) Clone() credentials.TransportCredentials {
	return watchedCredentials{TransportCredentials: w.TransportCredentials.Clone(), limit: w.limit}
}
