package rexec

import "testing"

func TestWhereATokenMayGoInPlaintext(t *testing.T) {
	for target, want := range map[string]bool{
		"127.0.0.1:50051":           true,
		"127.1.2.3:50051":           true,
		"[::1]:50051":               true,
		"localhost:50051":           true,
		"dns:///localhost:50051":    true,
		"dns:127.0.0.1:50051":       true,
		"passthrough:///[::1]:1":    true,
		"10.0.0.7:50051":            false,
		"[::ffff:10.0.0.7]:50051":   false,
		"example.com:50051":         false,
		"localhost.example.com:1":   false,
		"dns://8.8.8.8/localhost:1": false,
		"127.0.0.1%3a1:50051":       false,
		"127.0.0.1":                 false,
	} {
		if got := isLoopbackTarget(target); got != want {
			t.Errorf("isLoopbackTarget(%q) = %v, want %v", target, got, want)
		}
	}
	for target, want := range map[string]bool{
		"unix:/run/rexecd.sock":   true,
		"unix:///run/rexecd.sock": true,
		"unix-abstract:rexecd":    true,
		"127.0.0.1:50051":         false,
		"dns:///unix:50051":       false,
	} {
		if got := isUnixTarget(target); got != want {
			t.Errorf("isUnixTarget(%q) = %v, want %v", target, got, want)
		}
	}
}
