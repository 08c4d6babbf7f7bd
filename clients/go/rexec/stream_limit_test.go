package rexec

import (
	"encoding/binary"
	"math"
	"testing"
)

// frame is an HTTP/2 frame as a server sends it.
func frame(kind, flags byte, payload []byte) []byte {
	header := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), kind, flags, 0, 0, 0, 0}
	return append(header, payload...)
}

func settingsPayload(entries ...uint32) []byte {
	var payload []byte
	for i := 0; i+1 < len(entries); i += 2 {
		entry := make([]byte, 6)
		binary.BigEndian.PutUint16(entry, uint16(entries[i]))
		binary.BigEndian.PutUint32(entry[2:], entries[i+1])
		payload = append(payload, entry...)
	}
	return payload
}

const (
	frameData        = 0x0
	settingsInitWin  = 0x4
	settingsMaxFrame = 0x5
)

// The scanner reads each frame whatever the reads' boundaries, and only
// the settings of SETTINGS frames that are not ACKs.
func TestTheFrameScannerFindsTheLimitInSettingsOnly(t *testing.T) {
	fakeSettings := frame(frameTypeSettings, 0, settingsPayload(settingsMaxConcurrentStreams, 1))
	for _, tc := range []struct {
		name   string
		stream [][]byte
		want   uint32
	}{
		{"the first SETTINGS sets it", [][]byte{
			frame(frameTypeSettings, 0, settingsPayload(settingsInitWin, 65535, settingsMaxConcurrentStreams, 7, settingsMaxFrame, 16384)),
		}, 7},
		{"a first SETTINGS without it is no limit", [][]byte{
			frame(frameTypeSettings, 0, settingsPayload(settingsInitWin, 65535)),
		}, math.MaxUint32},
		{"an ACK's entries and a DATA payload are not settings", [][]byte{
			frame(frameTypeSettings, 0, settingsPayload(settingsMaxConcurrentStreams, 7)),
			frame(frameTypeSettings, settingsFlagAck, settingsPayload(settingsMaxConcurrentStreams, 2)),
			frame(frameData, 0, fakeSettings),
			frame(frameData, 0, nil),
		}, 7},
		{"a later SETTINGS changes it", [][]byte{
			frame(frameTypeSettings, 0, settingsPayload(settingsMaxConcurrentStreams, 7)),
			frame(frameData, 0, []byte("data")),
			frame(frameTypeSettings, 0, settingsPayload(settingsInitWin, 1, settingsMaxConcurrentStreams, 5)),
		}, 5},
		{"a later SETTINGS without it keeps it", [][]byte{
			frame(frameTypeSettings, 0, settingsPayload(settingsMaxConcurrentStreams, 7)),
			frame(frameTypeSettings, 0, settingsPayload(settingsInitWin, 1)),
		}, 7},
		{"0 is taken as 1", [][]byte{
			frame(frameTypeSettings, 0, settingsPayload(settingsMaxConcurrentStreams, 0)),
		}, 1},
	} {
		var all []byte
		for _, f := range tc.stream {
			all = append(all, f...)
		}
		for _, size := range []int{1, 2, 5, 9, 10, len(all)} {
			var limit streamLimit
			scanner := frameScanner{limit: &limit}
			for rest := all; len(rest) > 0; {
				n := size
				if n > len(rest) {
					n = len(rest)
				}
				scanner.scan(rest[:n])
				rest = rest[n:]
			}
			if got := limit.max.Load(); got != tc.want {
				t.Errorf("%s, in reads of %d bytes: %d, want %d", tc.name, size, got, tc.want)
			}
		}
	}
}
