package sqlstore_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// appendEvents stores one event per action, a second apart from nowMS on, and returns
// their IDs.
func appendEvents(t *testing.T, s *sqlstore.Store, events []store.AuditEvent) []int64 {
	t.Helper()

	var ids []int64
	for i := range events {
		e := &events[i]
		e.TimeMS = nowMS + int64(i)*1000
		if err := s.AppendAuditEvent(t.Context(), e); err != nil {
			t.Fatalf("AppendAuditEvent(%s): %v", e.Action, err)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// actions returns the actions of events, in order.
func actions(events []store.AuditEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}

func TestAuditLog(t *testing.T) {
	t.Parallel()

	alice, bob := string(userID("alice")), string(userID("bob"))
	events := []store.AuditEvent{
		{Action: "register", Actor: alice, Target: userID("alice"), Outcome: "success"},
		{Action: "login", Target: userID("alice"), IP: "192.0.2.7", UserAgent: "curl",
			Outcome: "failure", Details: json.RawMessage(`{"errcode":"M_FORBIDDEN"}`)},
		{Action: "login", Actor: bob, Target: userID("bob"), Outcome: "success"},
		{Action: "admin.user.lock", Actor: bob, Target: userID("alice"), Outcome: "success"},
	}

	tests := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"newest first", store.AuditFilter{},
			[]string{"admin.user.lock", "login", "login", "register"}},
		{"oldest first", store.AuditFilter{Forward: true},
			[]string{"register", "login", "login", "admin.user.lock"}},
		{"actor or target", store.AuditFilter{User: alice},
			[]string{"admin.user.lock", "login", "register"}},
		{"action", store.AuditFilter{Action: "login"}, []string{"login", "login"}},
		{"since", store.AuditFilter{SinceMS: nowMS + 2000, Forward: true},
			[]string{"login", "admin.user.lock"}},
		{"until", store.AuditFilter{UntilMS: nowMS + 1000}, []string{"register"}},
		{"limit", store.AuditFilter{Limit: 1}, []string{"admin.user.lock"}},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ids := appendEvents(t, s, slices.Clone(events))
		if !slices.IsSorted(ids) || ids[0] == ids[len(ids)-1] {
			t.Fatalf("IDs %v do not increase", ids)
		}

		for _, tt := range tests {
			got, err := s.AuditEvents(t.Context(), tt.f)
			if err != nil {
				t.Fatalf("%s: AuditEvents: %v", tt.name, err)
			}
			if !slices.Equal(actions(got), tt.want) {
				t.Errorf("%s: AuditEvents(%+v) = %q; want %q", tt.name, tt.f, actions(got),
					tt.want)
			}
		}

		// Pages continue after the last ID seen, in either direction.
		page, _ := s.AuditEvents(t.Context(), store.AuditFilter{Limit: 2})
		rest, _ := s.AuditEvents(t.Context(), store.AuditFilter{After: page[1].ID})
		if len(rest) != 2 || rest[0].ID != ids[1] || rest[1].ID != ids[0] {
			t.Errorf("second page %+v; want the events %d and %d", rest, ids[1], ids[0])
		}
		fwd, _ := s.AuditEvents(t.Context(), store.AuditFilter{Forward: true, After: ids[2]})
		if len(fwd) != 1 || fwd[0].ID != ids[3] {
			t.Errorf("forward after %d: %+v; want only %d", ids[2], fwd, ids[3])
		}

		// Every field reads back as it was written.
		got, _ := s.AuditEvents(t.Context(), store.AuditFilter{Action: "login",
			Forward: true, Limit: 1})
		want := events[1]
		want.ID, want.TimeMS = ids[1], nowMS+1000
		if len(got) != 1 || got[0].IP != want.IP || got[0].UserAgent != want.UserAgent ||
			got[0].Outcome != want.Outcome || got[0].Actor != "" ||
			got[0].Target != want.Target || got[0].TimeMS != want.TimeMS ||
			string(got[0].Details) != string(want.Details) {
			t.Errorf("read back %+v; want %+v", got, want)
		}

		// Retention deletes the events older than the cut-off, and only those.
		n, err := s.DeleteAuditEventsBefore(t.Context(), nowMS+2000)
		if err != nil || n != 2 {
			t.Fatalf("DeleteAuditEventsBefore = %d, %v; want 2", n, err)
		}
		left, _ := s.AuditEvents(t.Context(), store.AuditFilter{Forward: true})
		if !slices.Equal(actions(left), []string{"login", "admin.user.lock"}) {
			t.Errorf("after retention: %q", actions(left))
		}
	})
}

// TestAuditEventInTransaction appends an event inside a transaction, as an operation
// that records its own event in the same commit does.
func TestAuditEventInTransaction(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		e := &store.AuditEvent{Action: "logout", TimeMS: nowMS, Outcome: "success"}
		err := s.Transact(t.Context(), func(tx store.Store) error {
			return tx.AppendAuditEvent(t.Context(), e)
		})
		if err != nil || e.ID == 0 {
			t.Fatalf("AppendAuditEvent in a transaction: ID %d, %v", e.ID, err)
		}
		got, err := s.AuditEvents(t.Context(), store.AuditFilter{})
		if err != nil || len(got) != 1 || string(got[0].Details) != "{}" {
			t.Errorf("AuditEvents = %+v, %v; want the one event with details {}", got, err)
		}
	})
}
