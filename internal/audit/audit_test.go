package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// newRecorder returns a recorder on a fresh store of each database, and the buffer its
// JSON log lines go to.
func newRecorder(t *testing.T, s *sqlstore.Store) (*audit.Recorder, *bytes.Buffer) {
	t.Helper()

	var buf bytes.Buffer
	return audit.NewRecorder(s, slog.New(slog.NewJSONHandler(&buf, nil))), &buf
}

func TestRecord(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		rec, logged := newRecorder(t, s)
		ctx := audit.WithClient(context.Background(),
			audit.Client{IP: "192.0.2.4", UserAgent: "agent\xff/1"})

		rec.Record(ctx, audit.Event{Action: audit.ActionLock, Actor: "@boss:example.org",
			Target: "@alice:example.org", Outcome: audit.Success,
			Details: map[string]any{"locked": true}})

		events, err := s.AuditEvents(ctx, store.AuditFilter{})
		if err != nil || len(events) != 1 {
			t.Fatalf("AuditEvents = %+v, %v; want one event", events, err)
		}
		e := events[0]
		if e.Action != "lock" || e.Actor != "@boss:example.org" ||
			e.Target != "@alice:example.org" || e.IP != "192.0.2.4" ||
			e.UserAgent != "agent\uFFFD/1" || e.Outcome != "success" ||
			string(e.Details) != `{"locked":true}` || e.TimeMS == 0 {
			t.Errorf("stored %+v", e)
		}

		var line map[string]any
		if err := json.Unmarshal(logged.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", logged.String(), err)
		}
		if line["msg"] != "audit" || line["action"] != "lock" ||
			line["target"] != "@alice:example.org" || line["ip"] != "192.0.2.4" ||
			line["level"] != "INFO" {
			t.Errorf("log line %v", line)
		}
	})
}

// TestRecordFailure checks that a refused action logs at warning level and that an
// event without a client, as from the command line, is stored with an empty one.
func TestRecordFailure(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		rec, logged := newRecorder(t, s)
		rec.Record(context.Background(), audit.Event{Action: audit.ActionLogin,
			Outcome: audit.Failure, Details: map[string]any{"errcode": "M_FORBIDDEN"}})

		events, _ := s.AuditEvents(context.Background(), store.AuditFilter{})
		if len(events) != 1 || events[0].IP != "" || events[0].Actor != "" {
			t.Errorf("stored %+v", events)
		}
		if !strings.Contains(logged.String(), `"level":"WARN"`) {
			t.Errorf("a failure logged as %s", logged.String())
		}
	})
}

// TestRecordStoreDown checks that an event the store refuses still reaches the log.
func TestRecordStoreDown(t *testing.T) {
	t.Parallel()

	s := storetest.Open(t, storetest.SQLiteOptions(t))
	rec, logged := newRecorder(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec.Record(context.Background(), audit.Event{Action: audit.ActionLogout,
		Outcome: audit.Success})

	out := logged.String()
	if !strings.Contains(out, `"action":"logout"`) ||
		!strings.Contains(out, "could not store audit event") {
		t.Errorf("log after a failed write:\n%s", out)
	}
}

func TestNilRecorder(t *testing.T) {
	var rec *audit.Recorder
	rec.Record(context.Background(), audit.Event{Action: audit.ActionLogin})
	if c := audit.ClientFrom(context.Background()); c != (audit.Client{}) {
		t.Errorf("ClientFrom an empty context = %+v", c)
	}
}

// TestRecordClipsClientFields stores a User-Agent that PostgreSQL would refuse as it
// came (NUL, invalid UTF-8) and that is too long: it is stored valid, without NUL, and
// cut on a character boundary to at most 512 bytes.
func TestRecordClipsClientFields(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		rec, _ := newRecorder(t, s)
		agent := "a\x00b" + strings.Repeat("\xff", 300) + strings.Repeat("é", 300)
		ctx := audit.WithClient(context.Background(),
			audit.Client{IP: "192.0.2.4", UserAgent: agent})

		rec.Record(ctx, audit.Event{Action: audit.ActionLock, Outcome: audit.Success})

		events, err := s.AuditEvents(ctx, store.AuditFilter{})
		if err != nil || len(events) != 1 {
			t.Fatalf("AuditEvents = %+v, %v; want one event", events, err)
		}
		got := events[0].UserAgent
		if len(got) > 512 || !utf8.ValidString(got) || strings.ContainsRune(got, 0) ||
			!strings.HasPrefix(got, "ab\uFFFD") {
			t.Errorf("stored user agent %q (%d bytes); want valid UTF-8 of at most 512 "+
				"bytes without NUL, starting ab\uFFFD", got, len(got))
		}
	})
}
