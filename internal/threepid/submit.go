package threepid

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// maxTokenLength bounds a submitted token: the spec's tokens are at most 255 code
// points.
const maxTokenLength = 255

// SubmitRequest is the body of a submit_url.
type SubmitRequest struct {
	SID          string
	ClientSecret string
	// Token is the link's token or the code, as the user received it.
	Token string
}

// Submit runs the submit_url of medium: it validates the session when the token is the
// link's token or the code of its last message. A malformed field or a sid and client
// secret that name no session are M_INVALID_PARAM, a wrong token M_TOKEN_INCORRECT, and
// a session that expired, was used, or had too many tokens submitted
// M_SESSION_EXPIRED (https://spec.matrix.org/v1.18/identity-service-api/#post_matrixidentityv2validateemailsubmittoken).
func (s *Service) Submit(ctx context.Context, medium Medium, req *SubmitRequest) error {
	m, ok := s.cfg.Media[medium]
	if !ok {
		return mxerr.ErrThreepidMediumNotSupported.Msg("this server does not validate "+
			"%s addresses", medium)
	}
	if err := checkSecret("sid", req.SID); err != nil {
		return err
	}
	if err := checkSecret("client_secret", req.ClientSecret); err != nil {
		return err
	}
	if req.Token == "" || len([]rune(req.Token)) > maxTokenLength {
		return mxerr.ErrInvalidParam.Msg("token must be 1 to %d characters", maxTokenLength)
	}

	sess, err := s.store.ValidationSession(ctx, req.SID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (sess.Medium != string(medium) ||
		!sameDigest(token.Digest(req.ClientSecret), sess.ClientSecretDigest))) {
		return mxerr.ErrInvalidParam.Msg("no validation session has this sid and " +
			"client_secret")
	}
	if err != nil {
		return err
	}
	if err := s.usable(sess); err != nil {
		return err
	}

	// Every token counts, the right one too, so that concurrent guesses cannot pass
	// the cap; validation clears the count.
	counted, err := s.store.CountValidationAttempt(ctx, sess.SID, int64(m.MaxAttempts))
	if err != nil {
		return err
	}
	if !counted {
		return mxerr.ErrSessionExpired.Msg("too many tokens were submitted for this " +
			"message; ask for a new one with a higher send_attempt")
	}
	if !matchesToken(sess, req.Token) && !matchesCode(sess, req.Token) {
		return mxerr.ErrTokenIncorrect.Msg("the token is incorrect")
	}
	return s.markValidated(ctx, sess, m)
}

// LinkSession is what the confirmation page shows of a session.
type LinkSession struct {
	Medium  Medium
	Address string
	Purpose uia.Operation
	// NextLink is where to send the user after validation; "" for nowhere.
	NextLink string
	// Validated is set when the session was validated before.
	Validated bool
}

// CheckLink returns the session that the link with sid and token opens, changing
// nothing: a mail scanner that follows the link validates nothing. It returns
// M_INVALID_PARAM for a malformed link or an unknown session, M_TOKEN_INCORRECT for a
// wrong token and M_SESSION_EXPIRED for a session that expired or was used.
func (s *Service) CheckLink(
	ctx context.Context, medium Medium, sid, tok string,
) (*LinkSession, error) {
	if checkSecret("sid", sid) != nil || tok == "" || len(tok) > maxTokenLength {
		return nil, mxerr.ErrInvalidParam.Msg("this link is incomplete")
	}
	sess, err := s.store.ValidationSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Medium != string(medium)) {
		return nil, mxerr.ErrInvalidParam.Msg("this link names no validation session")
	}
	if err != nil {
		return nil, err
	}
	// Only the link's token opens the page: taking the code here as well would let
	// anyone guess codes without counting against the session's cap.
	if !matchesToken(sess, tok) {
		return nil, mxerr.ErrTokenIncorrect.Msg("this link is not the latest one sent")
	}
	if err := s.usable(sess); err != nil {
		return nil, err
	}
	return &LinkSession{Medium: medium, Address: sess.Address,
		Purpose: uia.Operation(sess.Purpose), NextLink: sess.NextLink,
		Validated: sess.ValidatedMS > 0}, nil
}

// ConfirmLink validates the session that the link with sid and token opens, with the
// errors of CheckLink, and returns it.
func (s *Service) ConfirmLink(
	ctx context.Context, medium Medium, sid, tok string,
) (*LinkSession, error) {
	ls, err := s.CheckLink(ctx, medium, sid, tok)
	if err != nil {
		return nil, err
	}
	sess, err := s.store.ValidationSession(ctx, sid)
	if err != nil {
		return nil, err
	}
	if err := s.markValidated(ctx, sess, s.cfg.Media[medium]); err != nil {
		return nil, err
	}
	ls.Validated = true
	return ls, nil
}

// usable returns M_SESSION_EXPIRED for a session that was used or has expired.
func (s *Service) usable(sess *store.ValidationSession) error {
	switch {
	case sess.Consumed:
		return mxerr.ErrSessionExpired.Msg("this validation session was already used")
	case sess.ExpiresMS <= s.now().UnixMilli():
		return mxerr.ErrSessionExpired.Msg("this validation session has expired; ask " +
			"for a new message")
	}
	return nil
}

// markValidated validates sess for the medium's token lifetime from now.
func (s *Service) markValidated(
	ctx context.Context, sess *store.ValidationSession, m MediumConfig,
) error {
	now := s.now()
	err := s.store.MarkValidated(ctx, sess.SID, now.UnixMilli(),
		now.Add(m.TokenLifetime).UnixMilli())
	if errors.Is(err, store.ErrConflict) {
		return mxerr.ErrSessionExpired.Msg("this validation session was already used")
	}
	return err
}

// matchesToken reports whether tok is the link token of the session's last message.
func matchesToken(sess *store.ValidationSession, tok string) bool {
	return sameDigest(token.Digest(tok), sess.TokenDigest)
}

// matchesCode reports whether tok, without the spaces a user may type, is the code of
// the session's last message.
func matchesCode(sess *store.ValidationSession, tok string) bool {
	code := strings.Join(strings.Fields(tok), "")
	if len(code) != codeDigits {
		return false
	}
	return sameDigest(codeDigest(sess.SID, code), sess.CodeDigest)
}

// sameDigest compares two digests in constant time.
func sameDigest(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
