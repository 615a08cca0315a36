package threepid

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TokenRequest is a requestToken call.
type TokenRequest struct {
	// Purpose is the operation the address is validated for: uia.OpRegister,
	// uia.OpPasswordReset or uia.OpAddThreepid.
	Purpose      uia.Operation
	Medium       Medium
	ClientSecret string
	SendAttempt  int64
	// NextLink is where the link leads after validation; "" for nowhere.
	NextLink string
	Address  AddressInput
	// AcceptLanguage picks the language of the message.
	AcceptLanguage string
}

// TokenResponse is the answer to requestToken.
type TokenResponse struct {
	SID       string
	SubmitURL string
}

// errSendFailed is the answer when the message could not be handed to the medium.
var errSendFailed = mxerr.New(http.StatusInternalServerError, mxerr.CodeUnknown,
	"the server could not send the validation message; try again later")

// RequestToken runs requestToken: it checks the request, finds the session of the
// client secret and address (or starts one) and sends a message if send_attempt is
// higher than the last one of the session. Register and 3PID requests refuse an address
// in use (M_THREEPID_IN_USE), password resets one without an account
// (M_THREEPID_NOT_FOUND), unless existence is hidden: the address then gets a notice and
// the answer is the same as for a validation. Addresses outside the domain policy are
// M_THREEPID_DENIED; malformed fields are M_INVALID_PARAM.
func (s *Service) RequestToken(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	m, ok := s.cfg.Media[req.Medium]
	if !ok {
		return nil, mxerr.ErrThreepidMediumNotSupported.Msg("this server does not "+
			"validate %s addresses", req.Medium)
	}
	if err := checkSecret("client_secret", req.ClientSecret); err != nil {
		return nil, err
	}
	address, err := m.Parse(req.Address)
	if err != nil {
		return nil, err
	}
	if req.NextLink != "" {
		if err := checkNextLink(req.NextLink, m.NextLinkDomains); err != nil {
			return nil, err
		}
	}
	if m.Allowed != nil && !m.Allowed(address) {
		return nil, mxerr.ErrThreepidDenied.Msg("%s may not be used on this server", address)
	}

	kind, err := s.messageFor(ctx, req.Purpose, req.Medium, address, m.HideExistence)
	if err != nil {
		return nil, err
	}
	sid, err := s.send(ctx, req, m, address, kind)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{SID: sid, SubmitURL: s.SubmitURL(req.Medium)}, nil
}

// messageFor decides what a requestToken sends: a validation when the address may be
// validated for purpose, otherwise an error, or a notice when existence is hidden.
func (s *Service) messageFor(
	ctx context.Context, purpose uia.Operation, medium Medium, address string, hide bool,
) (Kind, error) {
	_, err := s.store.ThreePID(ctx, string(medium), address)
	inUse := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}

	switch purpose {
	case uia.OpRegister, uia.OpAddThreepid:
		switch {
		case !inUse:
			return KindValidation, nil
		case hide:
			return KindAddressInUse, nil
		}
		return "", mxerr.ErrThreepidInUse.Msg("%s is already in use on this server",
			address)
	case uia.OpPasswordReset:
		switch {
		case inUse:
			return KindValidation, nil
		case hide:
			return KindNoAccount, nil
		}
		return "", mxerr.ErrThreepidNotFound.Msg("no account on this server has %s",
			address)
	}
	return "", fmt.Errorf("request a %s token: unknown purpose %q", medium, purpose)
}

// send finds or starts the session and sends kind when the send attempt calls for it.
// It returns the sid.
func (s *Service) send(
	ctx context.Context, req *TokenRequest, m MediumConfig, address string, kind Kind,
) (string, error) {
	key := store.ValidationKey{Medium: string(req.Medium), Address: address,
		Purpose: string(req.Purpose), ClientSecretDigest: token.Digest(req.ClientSecret)}
	msg := &Message{Kind: kind, To: address, Purpose: req.Purpose,
		AcceptLanguage: req.AcceptLanguage}

	// Two tries: a request that raced this one may create the session in between.
	for range 2 {
		sess, err := s.store.ValidationSessionByKey(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return "", err
		case sess.Consumed || sess.ExpiresMS <= s.now().UnixMilli():
			// A used or expired session gives way to a new one, with a new sid.
			if err := s.store.DeleteValidationSession(ctx, sess.SID); err != nil {
				return "", err
			}
		default:
			return sess.SID, s.resend(ctx, sess, req, m, msg)
		}

		sid, err := s.start(ctx, key, req, m, msg)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return sid, err
	}
	return "", fmt.Errorf("start a validation session for %s: the session kept changing",
		address)
}

// start creates the session of key and sends its first message. When the message
// cannot be sent the session is dropped again, so that the client's retry sends.
func (s *Service) start(
	ctx context.Context, key store.ValidationKey, req *TokenRequest, m MediumConfig,
	msg *Message,
) (string, error) {
	now := s.now()
	sid, tok, code := token.SessionID(), token.ValidationToken(), newCode()
	err := s.store.CreateValidationSession(ctx, &store.ValidationSession{SID: sid,
		Medium: key.Medium, Address: key.Address, Purpose: key.Purpose,
		ClientSecretDigest: key.ClientSecretDigest, TokenDigest: token.Digest(tok),
		CodeDigest: codeDigest(sid, code), SendAttempt: req.SendAttempt,
		NextLink: req.NextLink, CreatedMS: now.UnixMilli(),
		ExpiresMS: now.Add(m.TokenLifetime).UnixMilli()})
	if err != nil {
		return "", err
	}

	s.fill(msg, req.Medium, sid, tok, code, now.Add(m.TokenLifetime))
	if err := s.deliver(ctx, m, msg); err != nil {
		return "", errors.Join(err, s.store.DeleteValidationSession(ctx, sid))
	}
	return sid, nil
}

// resend sends a new message for an existing session when the send attempt is higher
// than its last one, with a new token and code that replace the old ones; a validated
// session sends nothing more.
func (s *Service) resend(
	ctx context.Context, sess *store.ValidationSession, req *TokenRequest, m MediumConfig,
	msg *Message,
) error {
	if sess.ValidatedMS > 0 || req.SendAttempt <= sess.SendAttempt {
		return nil
	}
	expires := s.now().Add(m.TokenLifetime)
	tok, code := token.ValidationToken(), newCode()
	sent, err := s.store.RecordValidationSend(ctx, &store.ValidationSend{SID: sess.SID,
		Attempt: req.SendAttempt, TokenDigest: token.Digest(tok),
		CodeDigest: codeDigest(sess.SID, code), NextLink: req.NextLink,
		ExpiresMS: expires.UnixMilli()})
	if err != nil || !sent {
		return err // not sent: a concurrent request with this attempt sends it
	}

	s.fill(msg, req.Medium, sess.SID, tok, code, expires)
	if err := s.deliver(ctx, m, msg); err != nil {
		return errors.Join(err,
			s.store.RevertValidationSend(ctx, sess.SID, req.SendAttempt, sess.SendAttempt))
	}
	return nil
}

// fill adds the link, the code and their expiry to a validation message.
func (s *Service) fill(msg *Message, medium Medium, sid, tok, code string, expires time.Time) {
	msg.Expires = expires
	if msg.Kind == KindValidation {
		msg.Link, msg.Code = s.linkURL(medium, sid, tok), code
	}
}

// deliver hands msg to the medium's sender; a failure is logged and answered with a
// 500 that says only that the message could not be sent.
func (s *Service) deliver(ctx context.Context, m MediumConfig, msg *Message) error {
	if err := m.Sender.Send(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "could not send a validation message", "kind", msg.Kind,
			"error", err)
		return errSendFailed
	}
	return nil
}

// codeDigits is the length of the code a user types.
const codeDigits = 6

// newCode returns a random code of codeDigits decimal digits.
func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // never fails
	return fmt.Sprintf("%0*d", codeDigits, n.Int64())
}

// codeDigest is the stored form of a code: its digest salted with the sid, so that one
// table of the million codes' digests does not read every session.
func codeDigest(sid, code string) []byte {
	return token.Digest(sid + "\x00" + code)
}
