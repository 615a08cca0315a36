package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// setupMS is when tokenSpec's uses were made: before every expiry in these tests.
const setupMS = nowMS - 1_000_000

// tokenSpec describes a registration token and the uses made of it.
type tokenSpec struct {
	uses      *int64
	expiry    *int64
	pending   int
	completed int
}

// setUp stores the token and makes its uses at setupMS.
func (ts tokenSpec) setUp(t *testing.T, s *sqlstore.Store, token string) {
	t.Helper()

	createToken(t, s, token, ts.uses, ts.expiry)
	makeUses(t, s, token, ts)
	wantUses(t, s, token, int64(ts.pending), int64(ts.completed))
}

func TestRegistrationTokenRoundTrip(t *testing.T) {
	t.Parallel()

	tests := []store.RegistrationToken{
		{Token: "unlimited", CreatedMS: nowMS},
		{Token: "limited", UsesAllowed: ptr[int64](3), ExpiryMS: ptr(nowMS + 1),
			CreatedMS: nowMS - 5},
		{Token: "zero-uses", UsesAllowed: ptr[int64](0), CreatedMS: nowMS},
		{Token: "bootstrap", UsesAllowed: ptr[int64](1), CreatedMS: nowMS, GrantsAdmin: true},
		{Token: "A-Za-z0-9._~", ExpiryMS: ptr[int64](0), CreatedMS: 0},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		for _, want := range tests {
			// What the caller sets for the counts is ignored: a new token is unused.
			in := want
			in.Pending, in.Completed = 7, 8
			if err := s.CreateRegistrationToken(ctx, &in); err != nil {
				t.Fatalf("CreateRegistrationToken(%s): %v", want.Token, err)
			}

			got := readToken(t, s, want.Token)
			if !tokenEqual(got, &want) {
				t.Errorf("read back %s; want %s", showToken(got), showToken(&want))
			}
		}

		err := s.CreateRegistrationToken(ctx, &store.RegistrationToken{Token: "limited",
			UsesAllowed: ptr[int64](9), CreatedMS: nowMS})
		wantErr(t, "CreateRegistrationToken(duplicate)", err, store.ErrConflict)
		if got := readToken(t, s, "limited"); !tokenEqual(got, &tests[1]) {
			t.Errorf("after a conflict, read back %s; want %s", showToken(got),
				showToken(&tests[1]))
		}

		_, err = s.RegistrationToken(ctx, "missing")
		wantErr(t, "RegistrationToken(missing)", err, store.ErrNotFound)
	})
}

func tokenEqual(a, b *store.RegistrationToken) bool {
	eq := func(x, y *int64) bool {
		return x == nil && y == nil || x != nil && y != nil && *x == *y
	}
	return a.Token == b.Token && eq(a.UsesAllowed, b.UsesAllowed) && a.Pending == b.Pending &&
		a.Completed == b.Completed && eq(a.ExpiryMS, b.ExpiryMS) &&
		a.CreatedMS == b.CreatedMS && a.GrantsAdmin == b.GrantsAdmin
}

func showToken(t *store.RegistrationToken) string {
	show := func(p *int64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("{%s uses %s pending %d completed %d expiry %s created %d admin %v}",
		t.Token, show(t.UsesAllowed), t.Pending, t.Completed, show(t.ExpiryMS), t.CreatedMS,
		t.GrantsAdmin)
}

func TestReserveRegistrationToken(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		spec tokenSpec
		want error
	}{
		{"unlimited", tokenSpec{}, nil},
		{"unlimited, much used", tokenSpec{pending: 3, completed: 4}, nil},
		{"one use, unused", tokenSpec{uses: ptr[int64](1)}, nil},
		{"one use, pending", tokenSpec{uses: ptr[int64](1), pending: 1}, store.ErrExhausted},
		{"one use, completed", tokenSpec{uses: ptr[int64](1), completed: 1},
			store.ErrExhausted},
		{"last of three", tokenSpec{uses: ptr[int64](3), pending: 1, completed: 1}, nil},
		{"none of three", tokenSpec{uses: ptr[int64](3), pending: 2, completed: 1},
			store.ErrExhausted},
		{"zero uses", tokenSpec{uses: ptr[int64](0)}, store.ErrExhausted},
		{"expires later", tokenSpec{expiry: ptr(nowMS + 1)}, nil},
		{"expires now", tokenSpec{expiry: ptr(nowMS)}, store.ErrExhausted},
		{"expired", tokenSpec{expiry: ptr(nowMS - 1)}, store.ErrExhausted},
		{"expired, uses left", tokenSpec{uses: ptr[int64](5), expiry: ptr(nowMS - 1)},
			store.ErrExhausted},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		for i, tt := range tests {
			token := fmt.Sprintf("tok%d", i)
			tt.spec.setUp(t, s, token)

			// The SQL condition and RegistrationToken.Valid agree.
			if valid := readToken(t, s, token).Valid(nowMS); valid != (tt.want == nil) {
				t.Errorf("%s: Valid(now) = %v, but reserving wants %v", tt.name, valid,
					tt.want)
			}

			err := s.ReserveRegistrationToken(ctx, token, nowMS)
			wantErr(t, tt.name+": ReserveRegistrationToken", err, tt.want)

			pending := int64(tt.spec.pending)
			if tt.want == nil {
				pending++
			}
			wantUses(t, s, token, pending, int64(tt.spec.completed))
		}

		err := s.ReserveRegistrationToken(ctx, "missing", nowMS)
		wantErr(t, "ReserveRegistrationToken(missing)", err, store.ErrExhausted)
	})
}

func TestRegistrationTokenLifecycle(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createToken(t, s, "tok", ptr[int64](3), ptr(nowMS+600_000))
		createToken(t, s, "other", ptr[int64](3), nil)

		// Reserve until the uses run out.
		for i := range 3 {
			if err := s.ReserveRegistrationToken(ctx, "tok", nowMS); err != nil {
				t.Fatalf("reservation %d: %v", i+1, err)
			}
		}
		err := s.ReserveRegistrationToken(ctx, "tok", nowMS)
		wantErr(t, "fourth reservation", err, store.ErrExhausted)
		wantUses(t, s, "tok", 3, 0)

		// A released use can be reserved again.
		if err := s.ReleaseRegistrationToken(ctx, "tok"); err != nil {
			t.Fatalf("ReleaseRegistrationToken: %v", err)
		}
		wantUses(t, s, "tok", 2, 0)
		if err := s.ReserveRegistrationToken(ctx, "tok", nowMS); err != nil {
			t.Fatalf("reservation after release: %v", err)
		}

		// Completing turns pending uses into completed ones; they never come back.
		for i, user := range []string{"alice", "bob", "carol"} {
			if err := s.CompleteRegistrationToken(ctx, "tok", userID(user), nowMS+1); err != nil {
				t.Fatalf("CompleteRegistrationToken(%s): %v", user, err)
			}
			wantUses(t, s, "tok", int64(2-i), int64(i+1))
		}
		err = s.ReserveRegistrationToken(ctx, "tok", nowMS)
		wantErr(t, "reservation when all are completed", err, store.ErrExhausted)

		// With nothing pending, releasing and completing change nothing.
		if err := s.ReleaseRegistrationToken(ctx, "tok"); err != nil {
			t.Errorf("ReleaseRegistrationToken with nothing pending: %v", err)
		}
		err = s.CompleteRegistrationToken(ctx, "tok", userID("dave"), nowMS)
		wantErr(t, "CompleteRegistrationToken with nothing pending", err, store.ErrExhausted)
		wantUses(t, s, "tok", 0, 3)

		// Unknown tokens neither fail a release nor complete.
		if err := s.ReleaseRegistrationToken(ctx, "missing"); err != nil {
			t.Errorf("ReleaseRegistrationToken(missing): %v", err)
		}
		err = s.CompleteRegistrationToken(ctx, "missing", userID("erin"), nowMS)
		wantErr(t, "CompleteRegistrationToken(missing)", err, store.ErrExhausted)

		// Each completion recorded who registered and when; the failed one did not.
		wantTokenUses(t, s, "tok", map[string]int64{
			string(userID("alice")): nowMS + 1,
			string(userID("bob")):   nowMS + 1,
			string(userID("carol")): nowMS + 1,
		})
		wantTokenUses(t, s, "missing", map[string]int64{})
		wantUses(t, s, "other", 0, 0)
	})
}

// wantTokenUses fails the test unless the recorded uses of token are want, user ID to
// time.
func wantTokenUses(t *testing.T, s *sqlstore.Store, token string, want map[string]int64) {
	t.Helper()

	rs, err := s.RawQuery(t.Context(),
		`SELECT user_id, used_ms FROM registration_token_uses WHERE token = ?`, token)
	if err != nil {
		t.Fatalf("read uses of %s: %v", token, err)
	}
	defer rs.Close()

	got := map[string]int64{}
	for rs.Next() {
		var (
			user string
			ms   int64
		)
		if err := rs.Scan(&user, &ms); err != nil {
			t.Fatalf("read uses of %s: %v", token, err)
		}
		got[user] = ms
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("read uses of %s: %v", token, err)
	}

	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("uses of %s: %v; want %v", token, got, want)
	}
}

func TestAnyValidRegistrationToken(t *testing.T) {
	t.Parallel()

	var (
		expired   = tokenSpec{expiry: ptr(nowMS - 1)}
		expiresAt = tokenSpec{expiry: ptr(nowMS)}
		pending   = tokenSpec{uses: ptr[int64](1), pending: 1}
		completed = tokenSpec{uses: ptr[int64](2), pending: 1, completed: 1}
		noUses    = tokenSpec{uses: ptr[int64](0)}
	)
	tests := []struct {
		name   string
		tokens []tokenSpec
		want   bool
	}{
		{"no tokens", nil, false},
		{"only expired", []tokenSpec{expired, expiresAt}, false},
		{"only used up", []tokenSpec{pending, completed, noUses}, false},
		{"unlimited", []tokenSpec{{}}, true},
		{"one use left", []tokenSpec{{uses: ptr[int64](2), pending: 1}}, true},
		{"expires later", []tokenSpec{{expiry: ptr(nowMS + 1)}}, true},
		{"one valid among dead", []tokenSpec{expired, pending, completed, noUses,
			{uses: ptr[int64](3), completed: 2, expiry: ptr(nowMS + 600_000)}}, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
				for i, spec := range tt.tokens {
					spec.setUp(t, s, fmt.Sprintf("tok%d", i))
				}

				got, err := s.AnyValidRegistrationToken(t.Context(), nowMS)
				if err != nil {
					t.Fatalf("AnyValidRegistrationToken: %v", err)
				}
				if got != tt.want {
					t.Errorf("AnyValidRegistrationToken = %v; want %v", got, tt.want)
				}
			})
		})
	}
}

func TestRegistrationTokensList(t *testing.T) {
	t.Parallel()

	// In the order the list wants: by creation time, then by token.
	specs := []struct {
		token     string
		createdMS int64
		spec      tokenSpec
		valid     bool
	}{
		{"oldest-expired", nowMS - 30, tokenSpec{expiry: ptr(nowMS - 1)}, false},
		{"tie-a-valid", nowMS - 20, tokenSpec{uses: ptr[int64](2), pending: 1}, true},
		{"tie-b-used-up", nowMS - 20, tokenSpec{uses: ptr[int64](2), completed: 2}, false},
		{"unlimited", nowMS - 10, tokenSpec{}, true},
		{"newest-zero-uses", nowMS, tokenSpec{uses: ptr[int64](0)}, false},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		if got, err := s.RegistrationTokens(ctx, nil, nowMS); err != nil || len(got) != 0 {
			t.Fatalf("RegistrationTokens with none = %v, %v; want none", got, err)
		}

		// Created in reverse, so that the order is not just the insertion order.
		for _, sp := range slices.Backward(specs) {
			if err := s.CreateRegistrationToken(ctx, &store.RegistrationToken{
				Token: sp.token, UsesAllowed: sp.spec.uses, ExpiryMS: sp.spec.expiry,
				CreatedMS: sp.createdMS}); err != nil {
				t.Fatalf("CreateRegistrationToken(%s): %v", sp.token, err)
			}
		}
		for _, sp := range specs {
			makeUses(t, s, sp.token, sp.spec)
		}

		for _, tt := range []struct {
			name  string
			valid *bool
		}{
			{"all", nil},
			{"valid", ptr(true)},
			{"invalid", ptr(false)},
		} {
			var want []string
			for _, sp := range specs {
				if tt.valid == nil || *tt.valid == sp.valid {
					want = append(want, sp.token)
				}
			}

			got, err := s.RegistrationTokens(ctx, tt.valid, nowMS)
			if err != nil {
				t.Fatalf("RegistrationTokens(%s): %v", tt.name, err)
			}
			var names []string
			for _, rt := range got {
				names = append(names, rt.Token)
				if stored := readToken(t, s, rt.Token); !tokenEqual(&rt, stored) {
					t.Errorf("listed %s; stored %s", showToken(&rt), showToken(stored))
				}
			}
			if !slices.Equal(names, want) {
				t.Errorf("RegistrationTokens(%s) = %q; want %q", tt.name, names, want)
			}
		}
	})
}

// makeUses makes the uses that spec describes of an existing token, at setupMS.
func makeUses(t *testing.T, s *sqlstore.Store, token string, spec tokenSpec) {
	t.Helper()

	for i := range spec.pending + spec.completed {
		if err := s.ReserveRegistrationToken(t.Context(), token, setupMS); err != nil {
			t.Fatalf("token %s: reserve use %d: %v", token, i+1, err)
		}
	}
	for i := range spec.completed {
		user := mxid.UserID(fmt.Sprintf("@%s-%d:%s", token, i, serverName))
		if err := s.CompleteRegistrationToken(t.Context(), token, user, setupMS); err != nil {
			t.Fatalf("token %s: complete use %d: %v", token, i+1, err)
		}
	}
}

func TestUpdateRegistrationToken(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		orig := store.RegistrationToken{Token: "tok", UsesAllowed: ptr[int64](1),
			ExpiryMS: ptr(nowMS + 100), CreatedMS: nowMS - 5, GrantsAdmin: true}
		if err := s.CreateRegistrationToken(ctx, &orig); err != nil {
			t.Fatalf("CreateRegistrationToken: %v", err)
		}
		createToken(t, s, "other", ptr[int64](7), nil)
		makeUses(t, s, "tok", tokenSpec{pending: 1})

		err := s.ReserveRegistrationToken(ctx, "tok", nowMS)
		wantErr(t, "reserve before the update", err, store.ErrExhausted)

		for _, tt := range []struct {
			name   string
			uses   *int64
			expiry *int64
		}{
			{"more uses, later expiry", ptr[int64](5), ptr(nowMS + 1000)},
			{"unlimited, never expires", nil, nil},
			{"expired", ptr[int64](5), ptr(nowMS - 1)},
		} {
			// Only uses allowed and expiry change; counts, creation and admin stay.
			in := orig
			in.UsesAllowed, in.ExpiryMS = tt.uses, tt.expiry
			in.Pending, in.Completed, in.CreatedMS, in.GrantsAdmin = 9, 9, 1, false
			if err := s.UpdateRegistrationToken(ctx, &in); err != nil {
				t.Fatalf("%s: UpdateRegistrationToken: %v", tt.name, err)
			}

			want := orig
			want.UsesAllowed, want.ExpiryMS = tt.uses, tt.expiry
			want.Pending = 1
			if got := readToken(t, s, "tok"); !tokenEqual(got, &want) {
				t.Errorf("%s: read back %s; want %s", tt.name, showToken(got),
					showToken(&want))
			}
		}

		// The last update expired the token; one more revives it for a reservation.
		err = s.ReserveRegistrationToken(ctx, "tok", nowMS)
		wantErr(t, "reserve an expired token", err, store.ErrExhausted)
		revive := orig
		revive.UsesAllowed = ptr[int64](2)
		if err := s.UpdateRegistrationToken(ctx, &revive); err != nil {
			t.Fatalf("UpdateRegistrationToken(revive): %v", err)
		}
		if err := s.ReserveRegistrationToken(ctx, "tok", nowMS); err != nil {
			t.Errorf("reserve after the update: %v", err)
		}
		wantUses(t, s, "other", 0, 0)
		if got := readToken(t, s, "other"); got.UsesAllowed == nil || *got.UsesAllowed != 7 {
			t.Errorf("other token changed: %s", showToken(got))
		}

		err = s.UpdateRegistrationToken(ctx, &store.RegistrationToken{Token: "missing"})
		wantErr(t, "UpdateRegistrationToken(missing)", err, store.ErrNotFound)
	})
}

func TestDeleteRegistrationToken(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createToken(t, s, "tok", nil, nil)
		createToken(t, s, "other", nil, nil)
		makeUses(t, s, "tok", tokenSpec{pending: 1, completed: 1})

		if err := s.DeleteRegistrationToken(ctx, "tok"); err != nil {
			t.Fatalf("DeleteRegistrationToken: %v", err)
		}

		_, err := s.RegistrationToken(ctx, "tok")
		wantErr(t, "RegistrationToken after delete", err, store.ErrNotFound)
		err = s.ReserveRegistrationToken(ctx, "tok", nowMS)
		wantErr(t, "ReserveRegistrationToken after delete", err, store.ErrExhausted)
		err = s.DeleteRegistrationToken(ctx, "tok")
		wantErr(t, "second DeleteRegistrationToken", err, store.ErrNotFound)

		// Releasing the use a session still holds is harmless once the token is gone.
		if err := s.ReleaseRegistrationToken(ctx, "tok"); err != nil {
			t.Errorf("ReleaseRegistrationToken after delete: %v", err)
		}

		wantUses(t, s, "other", 0, 0)
		if got, err := s.RegistrationTokens(ctx, nil, nowMS); err != nil || len(got) != 1 {
			t.Errorf("RegistrationTokens = %v, %v; want only other", got, err)
		}

		// The token can be created anew.
		createToken(t, s, "tok", ptr[int64](1), nil)
		wantUses(t, s, "tok", 0, 0)
	})
}
