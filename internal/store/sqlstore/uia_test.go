package sqlstore_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// wantSession fails the test unless the stored session equals want. Params are
// compared as JSON values, since PostgreSQL and SQLite keep them as text either way.
func wantSession(t *testing.T, s *sqlstore.Store, want *store.UIASession) {
	t.Helper()

	got, err := s.UIASession(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("UIASession(%s): %v", want.ID, err)
	}

	if !jsonEqual(t, got.Params, want.Params) {
		t.Errorf("session %s has params %s; want %s", want.ID, got.Params, want.Params)
	}
	if !slices.Equal(got.Completed, want.Completed) {
		t.Errorf("session %s has completed %q; want %q", want.ID, got.Completed,
			want.Completed)
	}

	if !uiaEqual(got, want) {
		t.Errorf("session %s is %+v; want %+v", want.ID, *got, *want)
	}
}

// uiaEqual compares the fields of two sessions that are neither slices nor JSON.
func uiaEqual(a, b *store.UIASession) bool {
	return a.ID == b.ID && a.Operation == b.Operation && a.UserID == b.UserID &&
		a.Method == b.Method && a.Path == b.Path && a.PasswordHash == b.PasswordHash &&
		a.RegistrationToken == b.RegistrationToken && a.CreatedMS == b.CreatedMS &&
		a.ExpiresMS == b.ExpiresMS && a.Consumed == b.Consumed
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()

	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

func TestUIASessionRoundTrip(t *testing.T) {
	t.Parallel()

	full := newSession("full", nowMS+600_000)
	full.UserID = userID("alice")
	full.PasswordHash = "$argon2id$hash"
	full.Completed = []string{"m.login.registration_token", "m.login.terms"}
	full.RegistrationToken = "tok"

	bare := newSession("bare", nowMS+1)
	bare.Params = json.RawMessage(`{}`)

	unicode := newSession("unicode", nowMS+1)
	unicode.Params = json.RawMessage(`{"username":"zoë","device":"📱","n":[1,2.5,null]}`)

	tests := []struct {
		name string
		in   *store.UIASession
	}{
		{"all fields", full},
		{"no stages, empty params", bare},
		{"unicode params", unicode},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		for _, tt := range tests {
			if err := s.CreateUIASession(t.Context(), tt.in); err != nil {
				t.Fatalf("%s: CreateUIASession: %v", tt.name, err)
			}
			wantSession(t, s, tt.in)
		}
	})
}

func TestUIASessionErrors(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		if err := s.CreateUIASession(ctx, newSession("s1", nowMS+1)); err != nil {
			t.Fatalf("CreateUIASession: %v", err)
		}

		err := s.CreateUIASession(ctx, newSession("s1", nowMS+2))
		wantErr(t, "CreateUIASession(same ID)", err, store.ErrConflict)

		_, err = s.UIASession(ctx, "missing")
		wantErr(t, "UIASession(missing)", err, store.ErrNotFound)

		// The interface promises ErrConflict only for consumed sessions; for a missing
		// one it is enough that the call fails.
		if err := s.UpdateUIASession(ctx, newSession("missing", nowMS+1)); err == nil {
			t.Errorf("UpdateUIASession(missing) succeeded")
		}
		if err := s.ConsumeUIASession(ctx, "missing"); err == nil {
			t.Errorf("ConsumeUIASession(missing) succeeded")
		}
	})
}

func TestUpdateUIASession(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		orig := newSession("s1", nowMS+600_000)
		if err := s.CreateUIASession(ctx, orig); err != nil {
			t.Fatalf("CreateUIASession: %v", err)
		}
		other := newSession("s2", nowMS+600_000)
		if err := s.CreateUIASession(ctx, other); err != nil {
			t.Fatalf("CreateUIASession: %v", err)
		}

		// Two rounds of updates, as two stages would make them.
		want := ptr(*orig)
		for _, stage := range []string{"m.login.registration_token", "m.login.dummy"} {
			want.UserID = userID("alice")
			want.Params = json.RawMessage(`{"username":"alice","stage":"` + stage + `"}`)
			want.PasswordHash = "$argon2id$" + stage
			want.Completed = append(want.Completed, stage)
			want.RegistrationToken = "tok-" + stage
			if err := s.UpdateUIASession(ctx, want); err != nil {
				t.Fatalf("UpdateUIASession(%s): %v", stage, err)
			}
			wantSession(t, s, want)
		}

		// The fields fixed at creation do not change.
		changed := *want
		changed.Operation, changed.Method, changed.Path = "login", "PUT", "/other"
		changed.CreatedMS, changed.ExpiresMS = 1, 2
		if err := s.UpdateUIASession(ctx, &changed); err != nil {
			t.Fatalf("UpdateUIASession(fixed fields): %v", err)
		}
		wantSession(t, s, want)

		// The other session is untouched.
		wantSession(t, s, other)
	})
}

func TestConsumeUIASession(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		sess := newSession("s1", nowMS+600_000)
		sess.Completed = []string{"m.login.dummy"}
		if err := s.CreateUIASession(ctx, sess); err != nil {
			t.Fatalf("CreateUIASession: %v", err)
		}
		if err := s.CreateUIASession(ctx, newSession("s2", nowMS+600_000)); err != nil {
			t.Fatalf("CreateUIASession: %v", err)
		}

		if err := s.ConsumeUIASession(ctx, "s1"); err != nil {
			t.Fatalf("first ConsumeUIASession: %v", err)
		}
		consumed := *sess
		consumed.Consumed = true
		wantSession(t, s, &consumed)

		err := s.ConsumeUIASession(ctx, "s1")
		wantErr(t, "second ConsumeUIASession", err, store.ErrConflict)

		update := consumed
		update.Completed = []string{"m.login.dummy", "m.login.terms"}
		err = s.UpdateUIASession(ctx, &update)
		wantErr(t, "UpdateUIASession after consume", err, store.ErrConflict)
		wantSession(t, s, &consumed)

		// Consuming one session leaves the others usable.
		if err := s.ConsumeUIASession(ctx, "s2"); err != nil {
			t.Errorf("ConsumeUIASession(s2): %v", err)
		}
	})
}

func TestDeleteExpiredUIASessions(t *testing.T) {
	t.Parallel()

	// Each session reserved a use of the token "tok" unless token is "".
	type session struct {
		id        string
		expiresMS int64
		token     string
		consumed  bool
		// gone says whether DeleteExpiredUIASessions(nowMS) removes it.
		gone bool
	}
	sessions := []session{
		{"expired-reserved", nowMS - 1, "tok", false, true},
		{"expired-reserved-2", nowMS - 600_000, "tok", false, true},
		{"expired-consumed", nowMS - 1, "tok", true, true},
		{"expired-plain", nowMS - 1, "", false, true},
		{"expired-consumed-plain", 0, "", true, true},
		{"expires-now", nowMS, "tok", false, false},
		{"live-reserved", nowMS + 1, "tok", false, false},
		{"live-consumed", nowMS + 600_000, "tok", true, false},
		{"live-plain", nowMS + 1, "", false, false},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createToken(t, s, "tok", nil, nil)
		createToken(t, s, "untouched", ptr[int64](5), nil)

		var wantRemoved, reserved, completed, released int64
		for _, sess := range sessions {
			u := newSession(sess.id, sess.expiresMS)
			u.RegistrationToken = sess.token
			if err := s.CreateUIASession(ctx, u); err != nil {
				t.Fatalf("CreateUIASession(%s): %v", sess.id, err)
			}

			// Reserve the use, and for a consumed session spend it, as registration does.
			if sess.token != "" {
				if err := s.ReserveRegistrationToken(ctx, sess.token, nowMS); err != nil {
					t.Fatalf("ReserveRegistrationToken: %v", err)
				}
				reserved++
			}
			if sess.consumed {
				if err := s.ConsumeUIASession(ctx, sess.id); err != nil {
					t.Fatalf("ConsumeUIASession(%s): %v", sess.id, err)
				}
				if sess.token != "" {
					err := s.CompleteRegistrationToken(ctx, sess.token,
						userID("u-"+sess.id), nowMS)
					if err != nil {
						t.Fatalf("CompleteRegistrationToken: %v", err)
					}
					completed++
				}
			}

			if sess.gone {
				wantRemoved++
				if sess.token != "" && !sess.consumed {
					released++
				}
			}
		}
		wantUses(t, s, "tok", reserved-completed, completed)

		removed, err := s.DeleteExpiredUIASessions(ctx, nowMS)
		if err != nil {
			t.Fatalf("DeleteExpiredUIASessions: %v", err)
		}
		if int64(removed) != wantRemoved {
			t.Errorf("DeleteExpiredUIASessions removed %d; want %d", removed, wantRemoved)
		}

		// Only the reservations of unconsumed sessions come back.
		wantUses(t, s, "tok", reserved-completed-released, completed)
		wantUses(t, s, "untouched", 0, 0)

		for _, sess := range sessions {
			_, err := s.UIASession(ctx, sess.id)
			if sess.gone {
				wantErr(t, "UIASession("+sess.id+") after delete", err, store.ErrNotFound)
			} else {
				wantErr(t, "UIASession("+sess.id+") after delete", err, nil)
			}
		}

		// Nothing is left to remove, and nothing more is released.
		removed, err = s.DeleteExpiredUIASessions(ctx, nowMS)
		if err != nil || removed != 0 {
			t.Errorf("second DeleteExpiredUIASessions = %d, %v; want 0, nil", removed, err)
		}
		wantUses(t, s, "tok", reserved-completed-released, completed)
	})
}
