package threepid

import (
	"context"
	"errors"
	"slices"

	"github.com/mxaccounts/mxaccounts/internal/identity"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// UnbindSuccess is the id_server_unbind_result when every binding that was to go went.
const UnbindSuccess = string(identity.UnbindSuccess)

// errNoIdentityServers answers a bind on a server built without an identity client.
var errNoIdentityServers = mxerr.ErrForbidden.Msg("this server binds no addresses on " +
	"identity servers")

// Bind runs POST /account/3pid/bind
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3account3pidbind):
// it asks req.IDServer, with the user's identity access token, to bind the address of
// its validated session req.SID to user, and records the binding so that it can be
// unbound later. The identity server's Matrix errors come back unchanged (as
// *mxerr.Error); malformed fields are M_INVALID_PARAM, and so is an id_server that
// cannot be reached or gives no usable answer: the spec has no status for a failing
// identity server, and what the client can do is the same, try later or another one.
func (s *Service) Bind(ctx context.Context, user mxid.UserID, req identity.BindRequest) error {
	if s.cfg.Identity == nil {
		return errNoIdentityServers
	}
	if err := checkSecret("sid", req.SID); err != nil {
		return err
	}
	if err := checkSecret("client_secret", req.ClientSecret); err != nil {
		return err
	}

	req.UserID = user
	assoc, err := s.cfg.Identity.Bind(ctx, req)
	if errors.Is(err, identity.ErrUnavailable) {
		s.log.WarnContext(ctx, "an identity server gave no usable answer to a bind",
			"user_id", user, "id_server", req.IDServer, "error", err)
		return mxerr.ErrInvalidParam.Msg("the identity server %s could not be reached or "+
			"gave no usable answer; try again later or use another one", req.IDServer)
	}
	if err != nil {
		return err
	}

	// The association names the address the identity server validated, in its
	// canonical form: the one it expects in the unbind.
	return s.store.AddThreePIDBinding(ctx, &store.ThreePIDBinding{UserID: user,
		Medium: assoc.Medium, Address: assoc.Address, IDServer: req.IDServer,
		BoundMS: s.now().UnixMilli()})
}

// unbind removes user's bindings of the address: on idServer when the client named one,
// otherwise on every identity server where one was recorded. It returns the
// id_server_unbind_result: success when every unbind succeeded, no-support when one
// did not or when no identity server is known for the address, which the spec counts
// as the homeserver not being able to determine one (Synapse answers alike). Identity
// servers that fail are logged and never fail the request; only a failure to read the
// records does.
func (s *Service) unbind(
	ctx context.Context, user mxid.UserID, medium Medium, address, idServer string,
) (string, error) {
	bindings, err := s.store.ThreePIDBindingsOf(ctx, user)
	if err != nil {
		return "", err
	}
	var targets []store.ThreePIDBinding
	for _, b := range bindings {
		if b.Medium == string(medium) && b.Address == address &&
			(idServer == "" || b.IDServer == idServer) {
			targets = append(targets, b)
		}
	}
	if idServer != "" && len(targets) == 0 {
		// The client knows of a binding this server did not make; try it all the same.
		targets = append(targets, store.ThreePIDBinding{UserID: user,
			Medium: string(medium), Address: address, IDServer: idServer})
	}
	if len(targets) == 0 {
		return UnbindNoSupport, nil
	}
	return s.unbindAll(ctx, targets), nil
}

// UnbindAll removes every binding that user made through this server, for the
// deactivation of the account, and returns the id_server_unbind_result: success when
// all went, including when there was none. It never fails: what cannot be unbound is
// logged and reported as no-support.
func (s *Service) UnbindAll(ctx context.Context, user mxid.UserID) string {
	bindings, err := s.store.ThreePIDBindingsOf(ctx, user)
	if err != nil {
		s.log.ErrorContext(ctx, "could not read the identity-server bindings to unbind",
			"user_id", user, "error", err)
		return UnbindNoSupport
	}
	return s.unbindAll(ctx, bindings)
}

// UnbindAddresses removes user's recorded bindings of the addresses in removed, for an
// operator who took those addresses off the account, and returns the
// id_server_unbind_result: success when all went, including when none was bound. It
// never fails: a binding that stays is logged with its identity server and stays
// recorded, so that a later unbind or the account's deactivation tries it again.
func (s *Service) UnbindAddresses(
	ctx context.Context, user mxid.UserID, removed []store.ThreePID,
) string {
	if len(removed) == 0 {
		return UnbindSuccess
	}
	bindings, err := s.store.ThreePIDBindingsOf(ctx, user)
	if err != nil {
		s.log.ErrorContext(ctx, "could not read the identity-server bindings of removed "+
			"addresses", "user_id", user, "error", err)
		return UnbindNoSupport
	}

	result := UnbindSuccess
	for i := range bindings {
		b := &bindings[i]
		if !slices.ContainsFunc(removed, func(p store.ThreePID) bool {
			return p.Medium == b.Medium && p.Address == b.Address
		}) {
			continue
		}
		if !s.unbindOne(ctx, b) {
			result = UnbindNoSupport
			s.log.WarnContext(ctx, "an address removed by an admin stays bound on an "+
				"identity server", "user_id", user, "id_server", b.IDServer,
				"medium", b.Medium)
		}
	}
	return result
}

// unbindAll asks each binding's identity server to remove it and forgets the ones
// that went; it returns success when all went, no-support otherwise.
func (s *Service) unbindAll(ctx context.Context, bindings []store.ThreePIDBinding) string {
	result := UnbindSuccess
	for i := range bindings {
		if !s.unbindOne(ctx, &bindings[i]) {
			result = UnbindNoSupport
		}
	}
	return result
}

// unbindOne asks b's identity server to remove b, signed by this server, and forgets
// b when it did. It reports whether the identity server removed it.
func (s *Service) unbindOne(ctx context.Context, b *store.ThreePIDBinding) bool {
	if s.cfg.Identity == nil {
		return false
	}
	res, err := s.cfg.Identity.Unbind(ctx, identity.UnbindRequest{IDServer: b.IDServer,
		UserID: b.UserID, Medium: b.Medium, Address: b.Address})
	if err != nil {
		s.log.WarnContext(ctx, "an identity server did not unbind an address",
			"user_id", b.UserID, "id_server", b.IDServer, "medium", b.Medium,
			"error", err)
	}
	if res != identity.UnbindSuccess {
		return false
	}

	if err := s.store.DeleteThreePIDBinding(ctx, b); err != nil {
		s.log.WarnContext(ctx, "could not forget an unbound binding", "user_id", b.UserID,
			"id_server", b.IDServer, "error", err)
	}
	return true
}
