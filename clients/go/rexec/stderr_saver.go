package rexec

import "strconv"

// stderrSaver keeps the first and the last n bytes written to it, for the
// ExitError.Stderr of Output, shaped as os/exec shapes it (the middle
// replaced by "\n... omitting N bytes ...\n"). Not safe for concurrent use
// (the receive goroutine alone writes).
type stderrSaver struct {
	n       int
	prefix  []byte
	suffix  []byte // a ring once it holds n bytes; next is where it wraps
	next    int
	omitted int64
}

func (s *stderrSaver) Write(p []byte) (int, error) {
	written := len(p)
	if room := s.n - len(s.prefix); room > 0 {
		if room > len(p) {
			room = len(p)
		}
		s.prefix = append(s.prefix, p[:room]...)
		p = p[room:]
	}
	if extra := len(p) - s.n; extra > 0 {
		s.omitted += int64(extra)
		p = p[extra:]
	}
	if room := s.n - len(s.suffix); room > 0 {
		if room > len(p) {
			room = len(p)
		}
		s.suffix = append(s.suffix, p[:room]...)
		p = p[room:]
	}
	for len(p) > 0 {
		n := copy(s.suffix[s.next:], p)
		p = p[n:]
		s.omitted += int64(n)
		s.next = (s.next + n) % s.n
	}
	return written, nil
}

func (s *stderrSaver) Bytes() []byte {
	if s.omitted == 0 {
		return append(s.prefix, s.suffix...)
	}
	out := append([]byte(nil), s.prefix...)
	out = append(out, "\n... omitting "+strconv.FormatInt(s.omitted, 10)+" bytes ...\n"...)
	out = append(out, s.suffix[s.next:]...)
	return append(out, s.suffix[:s.next]...)
}
