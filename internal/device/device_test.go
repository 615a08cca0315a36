package device

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
)

func TestCleanUserAgent(t *testing.T) {
	t.Parallel()

	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		ua   string
		want string
	}{
		{"empty", "", ""},
		{"plain", "Element/1.11.0 (X11; Linux x86_64)", "Element/1.11.0 (X11; Linux x86_64)"},
		{"non-ASCII kept", "Zoë's client/2 😀", "Zoë's client/2 😀"},
		{"exactly the limit", a(maxUserAgent), a(maxUserAgent)},
		{"one byte over", a(maxUserAgent + 1), a(maxUserAgent)},
		{"far over", a(1 << 20), a(maxUserAgent)},
		{"two-byte character across the limit", a(maxUserAgent-1) + "é",
			a(maxUserAgent - 1)},
		{"four-byte character across the limit", a(maxUserAgent-2) + "📱",
			a(maxUserAgent - 2)},
		{"four-byte character up to the limit", a(maxUserAgent-4) + "📱b",
			a(maxUserAgent-4) + "📱"},
		{"invalid bytes replaced", "agent\xff\xfe/1", "agent\uFFFD\uFFFD/1"},
		{"cut sequence replaced", "agent\xe2\x82", "agent\uFFFD\uFFFD"},
		{"replacement across the limit", a(maxUserAgent-2) + "\xff", a(maxUserAgent - 2)},
		{"valid U+FFFD kept", "a\uFFFDb", "a\uFFFDb"},
		{"NUL removed", "a\x00b\x00", "ab"},
		{"control characters removed", "a\tb\r\nc\x7fd\u0085e", "abcde"},
		{"removed characters do not count", strings.Repeat("\x00", 600) + "ok", "ok"},
	}
	for _, tt := range tests {
		got := cleanUserAgent(tt.ua)
		if got != tt.want {
			t.Errorf("%s: cleanUserAgent(%.40q) = %.40q (%d bytes); want %.40q (%d bytes)",
				tt.name, tt.ua, got, len(got), tt.want, len(tt.want))
		}
		if !utf8.ValidString(got) || len(got) > maxUserAgent || strings.Contains(got, "\x00") {
			t.Errorf("%s: cleanUserAgent(%.40q) = %.40q: not valid UTF-8 without NUL of at "+
				"most %d bytes", tt.name, tt.ua, got, maxUserAgent)
		}
	}
}

// TestSeen records a device as seen through the service on both databases: the first
// request writes, one within the minute does not, and the User-Agent is stored cleaned.
func TestSeen(t *testing.T) {
	t.Parallel()

	start := time.UnixMilli(1_700_000_000_000)
	longBad := "Bad\xffAgent/" + strings.Repeat("x", 1000)
	longBadStored := "Bad\uFFFDAgent/" + strings.Repeat("x", maxUserAgent-len("Bad\uFFFDAgent/"))
	steps := []struct {
		name  string
		after time.Duration
		ip    string
		ua    string
		want  store.Device
	}{
		{"first request", 0, "192.0.2.1", "Element/1.11",
			store.Device{LastSeenMS: start.UnixMilli(), LastSeenIP: "192.0.2.1",
				LastSeenUserAgent: "Element/1.11"}},
		{"within the minute", 59 * time.Second, "192.0.2.2", "curl/8",
			store.Device{LastSeenMS: start.UnixMilli(), LastSeenIP: "192.0.2.1",
				LastSeenUserAgent: "Element/1.11"}},
		{"over a minute later, a long invalid agent", 61 * time.Second, "192.0.2.3", longBad,
			store.Device{LastSeenMS: start.Add(61 * time.Second).UnixMilli(),
				LastSeenIP: "192.0.2.3", LastSeenUserAgent: longBadStored}},
	}

	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := t.Context()
		user := mxid.NewUserID("alice", "example.org")
		if _, err := st.EnsureDevice(ctx, &store.Device{UserID: user, DeviceID: "PHONE",
			CreatedMS: start.UnixMilli()}); err != nil {
			t.Fatalf("EnsureDevice: %v", err)
		}
		svc := New(st, Config{})

		for _, step := range steps {
			svc.now = func() time.Time { return start.Add(step.after) }
			d, err := st.Device(ctx, user, "PHONE")
			if err != nil {
				t.Fatalf("%s: Device before: %v", step.name, err)
			}

			// The requester carries the last-seen time as authentication read it.
			r := &store.Requester{Account: store.Account{UserID: user}, DeviceID: "PHONE",
				LastSeenMS: d.LastSeenMS}
			if err := svc.Seen(ctx, r, step.ip, step.ua); err != nil {
				t.Fatalf("%s: Seen: %v", step.name, err)
			}

			d, err = st.Device(ctx, user, "PHONE")
			if err != nil {
				t.Fatalf("%s: Device after: %v", step.name, err)
			}
			if d.LastSeenMS != step.want.LastSeenMS || d.LastSeenIP != step.want.LastSeenIP ||
				d.LastSeenUserAgent != step.want.LastSeenUserAgent {
				t.Errorf("%s: device seen at %d from %q by %.40q (%d bytes); "+
					"want %d, %q, %.40q (%d bytes)", step.name, d.LastSeenMS, d.LastSeenIP,
					d.LastSeenUserAgent, len(d.LastSeenUserAgent), step.want.LastSeenMS,
					step.want.LastSeenIP, step.want.LastSeenUserAgent,
					len(step.want.LastSeenUserAgent))
			}
		}

		// An application service acting without a device has nothing to record.
		r := &store.Requester{Account: store.Account{UserID: user}}
		if err := svc.Seen(ctx, r, "192.0.2.9", "bridge"); err != nil {
			t.Errorf("Seen without a device: %v", err)
		}
	})
}
