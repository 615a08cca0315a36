package regtoken_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/regtoken"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

func ptr(n int64) *int64 { return &n }

func TestCreate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		svc := regtoken.New(st)
		ctx := context.Background()
		future := time.Now().Add(time.Hour).UnixMilli()
		past := time.Now().Add(-time.Hour).UnixMilli()

		tests := []struct {
			name    string
			in      regtoken.NewToken
			wantErr mxerr.Code
			wantLen int
		}{
			{"generated", regtoken.NewToken{}, "", regtoken.DefaultLength},
			{"generated of length 40", regtoken.NewToken{Length: 40}, "", 40},
			{"chosen", regtoken.NewToken{Token: "friends.2026~x_y-z"}, "", 18},
			{"chosen again", regtoken.NewToken{Token: "friends.2026~x_y-z"},
				mxerr.CodeInvalidParam, 0},
			{"bad characters", regtoken.NewToken{Token: "no spaces"},
				mxerr.CodeInvalidParam, 0},
			{"length 65", regtoken.NewToken{Length: 65}, mxerr.CodeInvalidParam, 0},
			{"negative uses", regtoken.NewToken{UsesAllowed: ptr(-1)},
				mxerr.CodeInvalidParam, 0},
			{"expiry in the past", regtoken.NewToken{ExpiryMS: &past},
				mxerr.CodeInvalidParam, 0},
			{"limits", regtoken.NewToken{UsesAllowed: ptr(3), ExpiryMS: &future}, "", 16},
		}
		for _, tt := range tests {
			got, err := svc.Create(ctx, tt.in)
			if tt.wantErr != "" {
				var e *mxerr.Error
				if !errors.As(err, &e) || e.Code != tt.wantErr {
					t.Errorf("%s: %v, want %s", tt.name, err, tt.wantErr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if len(got.Token) != tt.wantLen ||
				!regexp.MustCompile(`^[0-9A-Za-z._~-]+$`).MatchString(got.Token) {
				t.Errorf("%s: token %q", tt.name, got.Token)
			}
		}
	})
}

func TestListUpdateDelete(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		svc := regtoken.New(st)
		ctx := context.Background()
		a, _ := svc.Create(ctx, regtoken.NewToken{Token: "open"})
		b, _ := svc.Create(ctx, regtoken.NewToken{Token: "zero", UsesAllowed: ptr(0)})

		yes, no := true, false
		for _, tt := range []struct {
			valid *bool
			want  []string
		}{{nil, []string{a.Token, b.Token}}, {&yes, []string{a.Token}},
			{&no, []string{b.Token}}} {
			got, err := svc.List(ctx, tt.valid)
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("List(%v) = %v, %v", tt.valid, got, err)
			}
			for i := range got {
				if got[i].Token != tt.want[i] {
					t.Errorf("List(%v)[%d] = %s, want %s", tt.valid, i, got[i].Token,
						tt.want[i])
				}
			}
		}

		up, err := svc.Update(ctx, "zero", regtoken.Update{ClearUsesAllowed: true})
		if err != nil || up.UsesAllowed != nil {
			t.Errorf("Update clearing the limit: %+v, %v", up, err)
		}
		up, err = svc.Update(ctx, "zero", regtoken.Update{UsesAllowed: ptr(5)})
		if err != nil || up.UsesAllowed == nil || *up.UsesAllowed != 5 {
			t.Errorf("Update setting the limit: %+v, %v", up, err)
		}
		if _, err := svc.Update(ctx, "nosuch", regtoken.Update{}); !errors.Is(err,
			mxerr.ErrNotFound) {
			t.Errorf("Update of an unknown token: %v", err)
		}

		if err := svc.Delete(ctx, "open"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Delete(ctx, "open"); !errors.Is(err, mxerr.ErrNotFound) {
			t.Errorf("second Delete: %v, want M_NOT_FOUND", err)
		}
		if _, err := svc.Get(ctx, "open"); !errors.Is(err, mxerr.ErrNotFound) {
			t.Errorf("Get after Delete: %v", err)
		}
	})
}
