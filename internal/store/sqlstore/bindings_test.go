package sqlstore_test

import (
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// TestThreePIDBindings checks the identity-server binding records: a repeated binding
// only moves its time, bindings are per user and identity server and listed oldest
// first, and a delete removes exactly one, a missing one being no error.
func TestThreePIDBindings(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := t.Context()
		const alice, bob = "@alice:example.org", "@bob:example.org"
		bindings := []store.ThreePIDBinding{
			{UserID: alice, Medium: "email", Address: "a@example.org",
				IDServer: "is.example", BoundMS: nowMS},
			{UserID: alice, Medium: "email", Address: "a@example.org",
				IDServer: "other.example:8090", BoundMS: nowMS + 1},
			{UserID: alice, Medium: "msisdn", Address: "447400123456",
				IDServer: "is.example", BoundMS: nowMS + 2},
			{UserID: bob, Medium: "email", Address: "a@example.org",
				IDServer: "is.example", BoundMS: nowMS + 3},
		}
		for i := range bindings {
			if err := s.AddThreePIDBinding(ctx, &bindings[i]); err != nil {
				t.Fatalf("AddThreePIDBinding(%+v): %v", bindings[i], err)
			}
		}
		again := bindings[0]
		again.BoundMS = nowMS + 10
		if err := s.AddThreePIDBinding(ctx, &again); err != nil {
			t.Fatalf("AddThreePIDBinding again: %v", err)
		}

		got, err := s.ThreePIDBindingsOf(ctx, alice)
		if err != nil {
			t.Fatalf("ThreePIDBindingsOf: %v", err)
		}
		want := []store.ThreePIDBinding{bindings[1], bindings[2], again}
		if !slices.Equal(got, want) {
			t.Errorf("alice's bindings %+v, want %+v", got, want)
		}

		for range 2 {
			if err := s.DeleteThreePIDBinding(ctx, &bindings[1]); err != nil {
				t.Fatalf("DeleteThreePIDBinding: %v", err)
			}
		}
		got, err = s.ThreePIDBindingsOf(ctx, alice)
		if err != nil || !slices.Equal(got, []store.ThreePIDBinding{bindings[2], again}) {
			t.Errorf("after the delete: %+v, %v", got, err)
		}
		got, err = s.ThreePIDBindingsOf(ctx, bob)
		if err != nil || !slices.Equal(got, bindings[3:]) {
			t.Errorf("bob's bindings %+v, %v; want %+v", got, err, bindings[3:])
		}
		got, err = s.ThreePIDBindingsOf(ctx, "@nobody:example.org")
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("nobody's bindings %#v, %v; want an empty list", got, err)
		}
	})
}
