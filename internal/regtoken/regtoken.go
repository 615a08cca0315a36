// Package regtoken manages registration tokens for operators: the Synapse-compatible
// admin API and the "mxaccounts token" commands both call it, so they apply one set of
// rules.
package regtoken

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"regexp"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// grammar is the opaque-ID grammar with the 64-character limit of registration tokens.
var grammar = regexp.MustCompile(`^[0-9A-Za-z._~-]{1,64}$`)

// alphabet is what generated tokens are made of.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// DefaultLength is the length of a generated token: 16 characters of 62 give 95 bits.
const DefaultLength = 16

// Service creates, lists, changes and deletes registration tokens.
type Service struct {
	store store.Store
	now   func() time.Time
}

// New returns a Service over st.
func New(st store.Store) *Service { return &Service{store: st, now: time.Now} }

// NewToken describes a token to create.
type NewToken struct {
	// Token is the token to create; empty generates one of Length characters.
	Token  string
	Length int
	// UsesAllowed is nil for unlimited uses.
	UsesAllowed *int64
	// ExpiryMS is nil for no expiry.
	ExpiryMS *int64
}

// Create creates a token. A bad token, length, use count or an expiry in the past is
// M_INVALID_PARAM, an existing token too.
func (s *Service) Create(ctx context.Context, n NewToken) (*store.RegistrationToken, error) {
	if err := s.checkLimits(n.UsesAllowed, n.ExpiryMS); err != nil {
		return nil, err
	}
	tok := n.Token
	if tok == "" {
		length := n.Length
		if length == 0 {
			length = DefaultLength
		}
		if length < 1 || length > 64 {
			return nil, mxerr.ErrInvalidParam.Msg("length must be between 1 and 64")
		}
		tok = generate(length)
	} else if !grammar.MatchString(tok) {
		return nil, mxerr.ErrInvalidParam.Msg("a registration token is 1 to 64 characters " +
			"of A-Z, a-z, 0-9 and . _ ~ -")
	}

	t := &store.RegistrationToken{Token: tok, UsesAllowed: n.UsesAllowed,
		ExpiryMS: n.ExpiryMS, CreatedMS: s.now().UnixMilli()}
	err := s.store.CreateRegistrationToken(ctx, t)
	if errors.Is(err, store.ErrConflict) {
		return nil, mxerr.ErrInvalidParam.Msg("the registration token %q exists already", tok)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// List returns the tokens; with valid set, only the valid or only the invalid ones.
func (s *Service) List(ctx context.Context, valid *bool) ([]store.RegistrationToken, error) {
	return s.store.RegistrationTokens(ctx, valid, s.now().UnixMilli())
}

// Get returns one token, or M_NOT_FOUND.
func (s *Service) Get(ctx context.Context, token string) (*store.RegistrationToken, error) {
	t, err := s.store.RegistrationToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, mxerr.ErrNotFound.Msg("no registration token %q", token)
	}
	return t, err
}

// Update describes a change; a nil field is left alone, and Clear* set it to unlimited
// or never.
type Update struct {
	UsesAllowed      *int64
	ClearUsesAllowed bool
	ExpiryMS         *int64
	ClearExpiry      bool
}

// Update changes a token's use limit or expiry, or returns M_NOT_FOUND.
func (s *Service) Update(
	ctx context.Context, token string, u Update,
) (*store.RegistrationToken, error) {
	if err := s.checkLimits(u.UsesAllowed, u.ExpiryMS); err != nil {
		return nil, err
	}
	var out *store.RegistrationToken
	err := s.store.Transact(ctx, func(tx store.Store) error {
		t, err := tx.RegistrationToken(ctx, token)
		if errors.Is(err, store.ErrNotFound) {
			return mxerr.ErrNotFound.Msg("no registration token %q", token)
		}
		if err != nil {
			return err
		}

		switch {
		case u.ClearUsesAllowed:
			t.UsesAllowed = nil
		case u.UsesAllowed != nil:
			t.UsesAllowed = u.UsesAllowed
		}
		switch {
		case u.ClearExpiry:
			t.ExpiryMS = nil
		case u.ExpiryMS != nil:
			t.ExpiryMS = u.ExpiryMS
		}
		out = t
		return tx.UpdateRegistrationToken(ctx, t)
	})
	return out, err
}

// Delete removes a token, or returns M_NOT_FOUND.
func (s *Service) Delete(ctx context.Context, token string) error {
	err := s.store.DeleteRegistrationToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return mxerr.ErrNotFound.Msg("no registration token %q", token)
	}
	return err
}

func (s *Service) checkLimits(uses, expiryMS *int64) error {
	if uses != nil && *uses < 0 {
		return mxerr.ErrInvalidParam.Msg("uses_allowed must not be negative")
	}
	if expiryMS != nil && *expiryMS <= s.now().UnixMilli() {
		return mxerr.ErrInvalidParam.Msg("expiry_time must be in the future")
	}
	return nil
}

func generate(n int) string {
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}
