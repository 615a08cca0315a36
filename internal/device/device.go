// Package device manages login sessions: devices, the access and refresh tokens bound to
// them, and the login tokens that start new ones. It issues tokens, resolves a token to
// its requester, rotates refresh tokens and revokes devices.
package device

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// revokedRetention is how long a replaced refresh token without an expiry of its own is
// remembered after its successor was used, so that presenting it again is recognised as
// reuse; after that it is merely unknown.
const revokedRetention = 30 * 24 * time.Hour

// Config holds the token lifetimes.
type Config struct {
	// AccessLifetime is the lifetime of the access tokens of clients that asked for a
	// refresh token; the others get access tokens that never expire.
	AccessLifetime time.Duration
	// RefreshLifetime is the lifetime of a refresh token from its issue; 0 means never.
	RefreshLifetime time.Duration
	// LoginTokenLifetime is the lifetime of a login token.
	LoginTokenLifetime time.Duration
}

// Service issues and checks access, refresh and login tokens.
type Service struct {
	cfg   Config
	store store.Store
	now   func() time.Time
}

// New returns a Service over st.
func New(st store.Store, cfg Config) *Service {
	return &Service{cfg: cfg, store: st, now: time.Now}
}

// Login is what a client gets when it logs in, registers or refreshes.
type Login struct {
	UserID      mxid.UserID
	DeviceID    mxid.DeviceID
	AccessToken string
	// RefreshToken is set only for a client that asked for one.
	RefreshToken string
	// ExpiresInMS is the access token's lifetime; 0 means it never expires.
	ExpiresInMS int64
}

// NewLogin describes the device a login asks for.
type NewLogin struct {
	UserID mxid.UserID
	// DeviceID reuses or creates that device; empty generates a new one.
	DeviceID mxid.DeviceID
	// DisplayName names a new device; it is ignored for an existing one.
	DisplayName *string
	// Refresh asks for a refresh token and an access token that expires.
	Refresh bool
}

// StartLogin creates or reuses the device and issues a fresh access token for it, and a
// refresh token when asked, in tx. Tokens issued earlier to a reused device are
// revoked, so a client that logs in again with its device ID leaves no stale session
// behind.
func (s *Service) StartLogin(ctx context.Context, tx store.Store, nl NewLogin) (*Login, error) {
	now := s.now()
	deviceID := nl.DeviceID
	if deviceID == "" {
		deviceID = mxid.DeviceID(token.DeviceID())
	}

	created, err := tx.EnsureDevice(ctx, &store.Device{UserID: nl.UserID, DeviceID: deviceID,
		DisplayName: nl.DisplayName, CreatedMS: now.UnixMilli()})
	if err != nil {
		return nil, err
	}
	if !created {
		if err := tx.DeleteDeviceTokens(ctx, nl.UserID, deviceID); err != nil {
			return nil, err
		}
	}

	out := &Login{UserID: nl.UserID, DeviceID: deviceID, AccessToken: token.New(token.Access)}
	at := &store.AccessToken{Digest: token.Digest(out.AccessToken), UserID: nl.UserID,
		DeviceID: deviceID, CreatedMS: now.UnixMilli()}
	if nl.Refresh {
		at.ExpiresMS = now.Add(s.cfg.AccessLifetime).UnixMilli()
		out.ExpiresInMS = s.cfg.AccessLifetime.Milliseconds()
	}
	if err := tx.CreateAccessToken(ctx, at); err != nil {
		return nil, err
	}
	if !nl.Refresh {
		return out, nil
	}

	out.RefreshToken = token.New(token.Refresh)
	err = tx.CreateRefreshToken(ctx, &store.RefreshToken{Digest: token.Digest(out.RefreshToken),
		UserID: nl.UserID, DeviceID: deviceID, AccessDigest: at.Digest,
		CreatedMS: now.UnixMilli(), ExpiresMS: s.refreshExpiry(now)})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Refresh runs POST /refresh (spec v1.3): it issues a new access token and a new refresh
// token for the device of refresh. The old refresh token keeps working until the new
// pair is first used, so that a client whose answer was lost can retry; presenting it
// after that revokes every token of the device. Unknown, reused and expired tokens are
// M_UNKNOWN_TOKEN, the expired ones with soft_logout.
func (s *Service) Refresh(ctx context.Context, refresh string) (*Login, error) {
	unknown := mxerr.ErrUnknownToken.Msg("unrecognised refresh token")
	if !token.WellFormed(token.Refresh, refresh) {
		return nil, unknown
	}
	digest := token.Digest(refresh)

	old, err := s.store.RefreshToken(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	if err := s.checkOwner(ctx, old.UserID); err != nil {
		return nil, err
	}

	now := s.now()
	out := &Login{UserID: old.UserID, DeviceID: old.DeviceID,
		AccessToken: token.New(token.Access), RefreshToken: token.New(token.Refresh),
		ExpiresInMS: s.cfg.AccessLifetime.Milliseconds()}
	outcome, err := s.store.RotateRefreshToken(ctx, &store.Rotation{
		Old: digest,
		Access: &store.AccessToken{Digest: token.Digest(out.AccessToken),
			CreatedMS: now.UnixMilli(), ExpiresMS: now.Add(s.cfg.AccessLifetime).UnixMilli()},
		Refresh: &store.RefreshToken{Digest: token.Digest(out.RefreshToken),
			CreatedMS: now.UnixMilli(), ExpiresMS: s.refreshExpiry(now)},
		NowMS:          now.UnixMilli(),
		RevokedUntilMS: now.Add(revokedRetention).UnixMilli(),
	})
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}

	switch outcome {
	case store.Rotated:
		return out, nil
	case store.RotationExpired:
		e := mxerr.ErrUnknownToken.Msg("the refresh token has expired")
		e.SoftLogout = true
		return nil, e
	case store.RotationReused:
		return nil, mxerr.ErrUnknownToken.Msg("this refresh token was already used; " +
			"every session of its device has ended")
	}
	return nil, unknown
}

// checkOwner refuses to refresh for an account that is locked or gone.
func (s *Service) checkOwner(ctx context.Context, user mxid.UserID) error {
	acct, err := s.store.AccountByLocalpart(ctx, user.Localpart())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return mxerr.ErrUnknownToken.Msg("unrecognised refresh token")
	case err != nil:
		return fmt.Errorf("refresh: %w", err)
	case acct.Deactivated:
		return mxerr.ErrUnknownToken.Msg("this account has been deactivated")
	case acct.Locked:
		return mxerr.ErrUserLocked
	}
	return nil
}

// refreshExpiry returns when a refresh token issued at now expires, 0 for never.
func (s *Service) refreshExpiry(now time.Time) int64 {
	if s.cfg.RefreshLifetime == 0 {
		return 0
	}
	return now.Add(s.cfg.RefreshLifetime).UnixMilli()
}

// Authenticate returns the requester an access token speaks for. An ill-formed token is
// refused without a database read; unknown and expired tokens are M_UNKNOWN_TOKEN
// (expired ones with soft_logout), a locked account is M_USER_LOCKED. The first use of
// a refreshed access token also confirms its refresh, which revokes the tokens it
// replaced; that is the only request that writes.
func (s *Service) Authenticate(ctx context.Context, access string) (*store.Requester, error) {
	return s.authenticate(ctx, access, false)
}

// AuthenticateExpired is Authenticate for logging out: it also accepts an access token
// that has expired, so that a client need not refresh a session only to end it.
func (s *Service) AuthenticateExpired(
	ctx context.Context, access string,
) (*store.Requester, error) {
	return s.authenticate(ctx, access, true)
}

func (s *Service) authenticate(
	ctx context.Context, access string, expiredOK bool,
) (*store.Requester, error) {
	if !token.WellFormed(token.Access, access) {
		return nil, mxerr.ErrUnknownToken.Msg("unrecognised access token")
	}

	r, err := s.store.RequesterByToken(ctx, token.Digest(access))
	if errors.Is(err, store.ErrNotFound) {
		return nil, mxerr.ErrUnknownToken.Msg("unrecognised access token")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate access token: %w", err)
	}

	now := s.now()
	if r.ExpiresMS != 0 && r.ExpiresMS <= now.UnixMilli() && !expiredOK {
		e := mxerr.ErrUnknownToken.Msg("the access token has expired")
		e.SoftLogout = true
		return nil, e
	}
	if r.Deactivated {
		return nil, mxerr.ErrUnknownToken.Msg("this account has been deactivated")
	}

	if r.PendingRefresh != nil {
		ok, err := s.store.ConfirmRotation(ctx, r.PendingRefresh,
			now.Add(revokedRetention).UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("confirm refresh of %s: %w", r.UserID, err)
		}
		if !ok {
			// A retried refresh replaced this token between the read and now.
			return nil, mxerr.ErrUnknownToken.Msg("unrecognised access token")
		}
	}
	return r, nil
}

// Logout deletes the requester's device and its tokens.
func (s *Service) Logout(ctx context.Context, r *store.Requester) error {
	return s.store.DeleteDevice(ctx, r.UserID, r.DeviceID)
}

// LogoutAll deletes every device of the requester's user, the current one included.
func (s *Service) LogoutAll(ctx context.Context, r *store.Requester) error {
	return s.store.DeleteAllDevices(ctx, r.UserID)
}

// seenInterval is how stale a device's last-seen record may grow: recording every
// request would turn every read into a write.
const seenInterval = time.Minute

// maxUserAgent is the most bytes of a User-Agent that a device's last-seen record
// keeps: the header is the client's to fill, and the row should not grow with it.
// migrations/*/00007_device_user_agent.sql names the same limit.
const maxUserAgent = 512

// Seen records that the requester's device was used now from ip by a client that
// calls itself userAgent, at most once per seenInterval per device. The user agent is
// stored as cleanUserAgent returns it. It returns the store's error.
func (s *Service) Seen(ctx context.Context, r *store.Requester, ip, userAgent string) error {
	now := s.now().UnixMilli()
	if r.DeviceID == "" || now-r.LastSeenMS < seenInterval.Milliseconds() {
		return nil
	}

	seen := &store.Device{UserID: r.UserID, DeviceID: r.DeviceID, LastSeenMS: now,
		LastSeenIP: ip, LastSeenUserAgent: cleanUserAgent(userAgent)}
	return s.store.TouchDevice(ctx, seen, now-seenInterval.Milliseconds())
}

// cleanUserAgent returns ua as a device's last-seen record keeps it: valid UTF-8, each
// invalid byte replaced by U+FFFD, without control characters (NUL among them, which
// PostgreSQL refuses in text), and cut at a character boundary to at most maxUserAgent
// bytes.
func cleanUserAgent(ua string) string {
	var b strings.Builder
	for _, c := range ua {
		// Ranging over a string yields utf8.RuneError for each invalid byte, and
		// WriteRune writes it as U+FFFD.
		if unicode.IsControl(c) {
			continue
		}
		if b.Len()+utf8.RuneLen(c) > maxUserAgent {
			break
		}
		b.WriteRune(c)
	}
	return b.String()
}
