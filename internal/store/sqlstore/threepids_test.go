package sqlstore_test

import (
	"bytes"
	"slices"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// newValidation returns an email validation session for registration, not yet stored.
func newValidation(sid, address, clientSecret string) *store.ValidationSession {
	return &store.ValidationSession{
		SID:                sid,
		Medium:             "email",
		Address:            address,
		Purpose:            "register",
		ClientSecretDigest: []byte("cs:" + clientSecret),
		TokenDigest:        []byte("token-1"),
		CodeDigest:         []byte("code-1"),
		SendAttempt:        1,
		NextLink:           "https://client.example/done",
		CreatedMS:          nowMS,
		ExpiresMS:          nowMS + 3_600_000,
	}
}

// createValidation stores v and fails the test on error.
func createValidation(t *testing.T, s *sqlstore.Store, v *store.ValidationSession) {
	t.Helper()

	if err := s.CreateValidationSession(t.Context(), v); err != nil {
		t.Fatalf("CreateValidationSession(%s): %v", v.SID, err)
	}
}

// readValidation returns the stored session sid.
func readValidation(t *testing.T, s *sqlstore.Store, sid string) *store.ValidationSession {
	t.Helper()

	v, err := s.ValidationSession(t.Context(), sid)
	if err != nil {
		t.Fatalf("ValidationSession(%s): %v", sid, err)
	}
	return v
}

// validationEqual compares every field of two sessions.
func validationEqual(a, b *store.ValidationSession) bool {
	return a.SID == b.SID && a.Medium == b.Medium && a.Address == b.Address &&
		a.Purpose == b.Purpose && bytes.Equal(a.ClientSecretDigest, b.ClientSecretDigest) &&
		bytes.Equal(a.TokenDigest, b.TokenDigest) && bytes.Equal(a.CodeDigest, b.CodeDigest) &&
		a.SendAttempt == b.SendAttempt && a.NextLink == b.NextLink &&
		a.FailedAttempts == b.FailedAttempts && a.CreatedMS == b.CreatedMS &&
		a.ExpiresMS == b.ExpiresMS && a.ValidatedMS == b.ValidatedMS &&
		a.Consumed == b.Consumed && a.UIASessionID == b.UIASessionID
}

// TestValidationSessionRoundTrip checks that a session reads back as written, by sid
// and by key, and that a second session for the same key is a conflict while another
// client secret, purpose or address is not.
func TestValidationSessionRoundTrip(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := t.Context()

		v := newValidation("SID1", "strauss@example.com", "secret")
		createValidation(t, s, v)
		if got := readValidation(t, s, "SID1"); !validationEqual(got, v) {
			t.Errorf("read back %+v, want %+v", got, v)
		}

		key := store.ValidationKey{Medium: "email", Address: "strauss@example.com",
			Purpose: "register", ClientSecretDigest: []byte("cs:secret")}
		got, err := s.ValidationSessionByKey(ctx, key)
		if err != nil || got.SID != "SID1" {
			t.Fatalf("ValidationSessionByKey: %v, %v; want SID1", got, err)
		}

		_, err = s.ValidationSession(ctx, "nosuch")
		wantErr(t, "ValidationSession(nosuch)", err, store.ErrNotFound)
		key.Purpose = "password_reset"
		_, err = s.ValidationSessionByKey(ctx, key)
		wantErr(t, "ValidationSessionByKey(other purpose)", err, store.ErrNotFound)

		again := newValidation("SID2", "strauss@example.com", "secret")
		wantErr(t, "a second session for the key",
			s.CreateValidationSession(ctx, again), store.ErrConflict)

		for _, other := range []*store.ValidationSession{
			newValidation("SID3", "strauss@example.com", "another secret"),
			newValidation("SID4", "other@example.com", "secret"),
			func() *store.ValidationSession {
				v := newValidation("SID5", "strauss@example.com", "secret")
				v.Purpose = "3pid_add"
				return v
			}(),
		} {
			createValidation(t, s, other)
		}

		if err := s.DeleteValidationSession(ctx, "SID1"); err != nil {
			t.Fatalf("DeleteValidationSession: %v", err)
		}
		_, err = s.ValidationSession(ctx, "SID1")
		wantErr(t, "ValidationSession after delete", err, store.ErrNotFound)
		createValidation(t, s, again) // the key is free again
	})
}

// TestValidationSend checks that a message is recorded only for a higher send
// attempt, replaces the token and code and resets the failures, that concurrent
// requests with one attempt record one message, and that a failed send is reverted.
func TestValidationSend(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := t.Context()
		createValidation(t, s, newValidation("SID", "a@example.org", "cs"))
		if ok, err := s.CountValidationAttempt(ctx, "SID", 5); !ok || err != nil {
			t.Fatalf("CountValidationAttempt: %v, %v", ok, err)
		}

		send := func(attempt int64) bool {
			t.Helper()
			ok, err := s.RecordValidationSend(ctx, &store.ValidationSend{SID: "SID",
				Attempt: attempt, TokenDigest: []byte("token-2"), CodeDigest: []byte("code-2"),
				NextLink: "", ExpiresMS: nowMS + 7_200_000})
			if err != nil {
				t.Fatalf("RecordValidationSend(%d): %v", attempt, err)
			}
			return ok
		}
		if send(1) || send(0) {
			t.Fatalf("a send attempt not above 1 was recorded")
		}
		if v := readValidation(t, s, "SID"); v.FailedAttempts != 1 {
			t.Fatalf("failed attempts %d after refused sends, want 1", v.FailedAttempts)
		}

		if !send(3) {
			t.Fatalf("send attempt 3 was not recorded")
		}
		v := readValidation(t, s, "SID")
		if v.SendAttempt != 3 || string(v.TokenDigest) != "token-2" ||
			string(v.CodeDigest) != "code-2" || v.NextLink != "" || v.FailedAttempts != 0 ||
			v.ExpiresMS != nowMS+7_200_000 {
			t.Errorf("after send 3: %+v", v)
		}

		if err := s.RevertValidationSend(ctx, "SID", 3, 1); err != nil {
			t.Fatalf("RevertValidationSend: %v", err)
		}
		if v := readValidation(t, s, "SID"); v.SendAttempt != 1 {
			t.Fatalf("send attempt %d after the revert, want 1", v.SendAttempt)
		}

		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			sent int
		)
		for range 8 {
			wg.Go(func() {
				ok, err := s.RecordValidationSend(ctx, &store.ValidationSend{SID: "SID",
					Attempt: 4, TokenDigest: []byte("t"), CodeDigest: []byte("c"),
					ExpiresMS: nowMS + 1})
				if err != nil {
					t.Errorf("concurrent RecordValidationSend: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if ok {
					sent++
				}
			})
		}
		wg.Wait()
		if sent != 1 {
			t.Errorf("8 concurrent requests with send attempt 4 recorded %d sends, want 1",
				sent)
		}
	})
}

// TestValidationAttemptsAndUse checks the cap on submitted tokens, validation, and
// that a validated session is consumed once, by one UIA session.
func TestValidationAttemptsAndUse(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := t.Context()
		createValidation(t, s, newValidation("SID", "a@example.org", "cs"))

		for i := range 3 {
			if ok, err := s.CountValidationAttempt(ctx, "SID", 3); !ok || err != nil {
				t.Fatalf("attempt %d: %v, %v; want counted", i+1, ok, err)
			}
		}
		if ok, err := s.CountValidationAttempt(ctx, "SID", 3); ok || err != nil {
			t.Fatalf("attempt 4 of 3: %v, %v; want refused", ok, err)
		}

		wantErr(t, "consume before validation",
			s.ConsumeValidationSession(ctx, "SID", "uia"), store.ErrConflict)
		if err := s.MarkValidated(ctx, "SID", nowMS+10, nowMS+99); err != nil {
			t.Fatalf("MarkValidated: %v", err)
		}
		v := readValidation(t, s, "SID")
		if v.ValidatedMS != nowMS+10 || v.ExpiresMS != nowMS+99 || v.FailedAttempts != 0 {
			t.Errorf("after validation: %+v", v)
		}
		if ok, _ := s.RecordValidationSend(ctx, &store.ValidationSend{SID: "SID",
			Attempt: 9}); ok {
			t.Errorf("a validated session recorded a new message")
		}

		if err := s.ConsumeValidationSession(ctx, "SID", "uia"); err != nil {
			t.Fatalf("ConsumeValidationSession: %v", err)
		}
		wantErr(t, "a second consume",
			s.ConsumeValidationSession(ctx, "SID", "other"), store.ErrConflict)
		wantErr(t, "validate a consumed session",
			s.MarkValidated(ctx, "SID", nowMS, nowMS), store.ErrConflict)

		used, err := s.ValidationSessionsUsedBy(ctx, "uia")
		if err != nil || len(used) != 1 || used[0].SID != "SID" || !used[0].Consumed {
			t.Fatalf("ValidationSessionsUsedBy(uia): %+v, %v", used, err)
		}
		if used, _ := s.ValidationSessionsUsedBy(ctx, "other"); len(used) != 0 {
			t.Errorf("ValidationSessionsUsedBy(other): %+v, want none", used)
		}
	})
}

// TestDeleteExpiredValidationSessions checks that only sessions expired before the
// given time go.
func TestDeleteExpiredValidationSessions(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		old := newValidation("OLD", "a@example.org", "cs")
		old.ExpiresMS = nowMS - 1
		fresh := newValidation("FRESH", "b@example.org", "cs")
		fresh.ExpiresMS = nowMS
		createValidation(t, s, old)
		createValidation(t, s, fresh)

		n, err := s.DeleteExpiredValidationSessions(t.Context(), nowMS)
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredValidationSessions: %d, %v; want 1", n, err)
		}
		readValidation(t, s, "FRESH")
	})
}

// TestThreePIDs checks adding, listing, finding and removing 3PIDs: one account per
// address, and a user removes only what they hold.
func TestThreePIDs(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")

		if list, err := s.ThreePIDsOf(ctx, alice); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("ThreePIDsOf a user without any: %#v, %v; want an empty list", list, err)
		}

		add := func(user string, medium, address string, at int64) error {
			return s.AddThreePID(ctx, &store.ThreePID{UserID: userID(user), Medium: medium,
				Address: address, ValidatedMS: at - 5, AddedMS: at})
		}
		for _, err := range []error{
			add("alice", "email", "strauss@example.com", nowMS+2),
			add("alice", "msisdn", "441234567890", nowMS+1),
			add("bob", "email", "bob@example.org", nowMS),
		} {
			if err != nil {
				t.Fatalf("AddThreePID: %v", err)
			}
		}
		wantErr(t, "another account adding alice's address",
			add("bob", "email", "strauss@example.com", nowMS), store.ErrConflict)
		wantErr(t, "alice adding it again",
			add("alice", "email", "strauss@example.com", nowMS), store.ErrConflict)

		list, err := s.ThreePIDsOf(ctx, alice)
		if err != nil {
			t.Fatalf("ThreePIDsOf: %v", err)
		}
		want := []store.ThreePID{
			{UserID: alice, Medium: "msisdn", Address: "441234567890",
				ValidatedMS: nowMS - 4, AddedMS: nowMS + 1},
			{UserID: alice, Medium: "email", Address: "strauss@example.com",
				ValidatedMS: nowMS - 3, AddedMS: nowMS + 2},
		}
		if !slices.Equal(list, want) {
			t.Errorf("ThreePIDsOf(alice) = %+v, want %+v", list, want)
		}

		owner, err := s.ThreePID(ctx, "email", "strauss@example.com")
		if err != nil || owner.UserID != alice {
			t.Fatalf("ThreePID: %+v, %v; want alice's", owner, err)
		}
		_, err = s.ThreePID(ctx, "msisdn", "strauss@example.com")
		wantErr(t, "ThreePID of another medium", err, store.ErrNotFound)

		wantErr(t, "bob removing alice's address",
			s.DeleteThreePID(ctx, bob, "email", "strauss@example.com"), store.ErrNotFound)
		if err := s.DeleteThreePID(ctx, alice, "email", "strauss@example.com"); err != nil {
			t.Fatalf("DeleteThreePID: %v", err)
		}
		wantErr(t, "add after removal", add("bob", "email", "strauss@example.com", nowMS),
			nil)

		n, err := s.DeleteThreePIDsOf(ctx, alice)
		if err != nil || n != 1 {
			t.Fatalf("DeleteThreePIDsOf(alice): %d, %v; want 1", n, err)
		}
		if list, _ := s.ThreePIDsOf(ctx, bob); len(list) != 2 {
			t.Errorf("bob has %+v, want his two addresses", list)
		}
	})
}

// TestThreePIDsInTransaction checks that an address added in a transaction that fails
// is not kept.
func TestThreePIDsInTransaction(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := t.Context()
		err := s.Transact(ctx, func(tx store.Store) error {
			if err := tx.AddThreePID(ctx, &store.ThreePID{UserID: userID("alice"),
				Medium: "email", Address: "a@example.org"}); err != nil {
				return err
			}
			return tx.AddThreePID(ctx, &store.ThreePID{UserID: userID("bob"),
				Medium: "email", Address: "a@example.org"})
		})
		wantErr(t, "two owners in one transaction", err, store.ErrConflict)

		_, err = s.ThreePID(ctx, "email", "a@example.org")
		wantErr(t, "the address after the rollback", err, store.ErrNotFound)
	})
}
