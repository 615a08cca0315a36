package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// handlerFunc is an endpoint that returns its error for the wrapper to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// authedFunc is an endpoint that needs an access token.
type authedFunc func(w http.ResponseWriter, r *http.Request, rq *store.Requester) error

// authOption relaxes what authed refuses.
type authOption int

const (
	// allowGuests lets guest accounts call the endpoint; the spec lists which may.
	allowGuests authOption = iota + 1
	// allowLocked lets locked accounts call the endpoint (logout, so they can leave).
	allowLocked
	// allowExpired accepts expired access tokens (logout, so a client need not refresh
	// a session only to end it).
	allowExpired
	// refuseSuspended refuses suspended accounts (403 M_USER_SUSPENDED). The spec (v1.13)
	// leaves the restricted actions to the server but recommends that a suspended user
	// may log in and out, delete devices, deactivate, and add or change its contacts;
	// of this API only the removal of a contact is then left to refuse.
	refuseSuspended
)

func (s *Server) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, err)
		}
	})
}

func (s *Server) authed(h authedFunc, opts ...authOption) http.Handler {
	guests, locked, expired, suspended := false, false, false, true
	for _, o := range opts {
		guests = guests || o == allowGuests
		locked = locked || o == allowLocked
		expired = expired || o == allowExpired
		suspended = suspended && o != refuseSuspended
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, err := s.authenticate(r, expired)
		if err == nil {
			requestInfo(r.Context()).userID = rq.UserID
			serr := s.devices.Seen(r.Context(), rq, s.clientAddr(r), r.UserAgent())
			if serr != nil {
				// The request goes on: a missed last-seen record is not worth failing it.
				s.log.WarnContext(r.Context(), "could not record device activity",
					"user_id", rq.UserID, "device_id", rq.DeviceID, "error", serr)
			}
			switch {
			case rq.Locked && !locked:
				err = mxerr.ErrUserLocked
			case rq.Kind == store.KindGuest && !guests:
				err = mxerr.ErrGuestForbidden
			case rq.Suspended && !suspended:
				err = mxerr.ErrUserSuspended
			default:
				err = h(w, r, rq)
			}
		}
		if err != nil {
			writeError(w, r, err)
		}
	})
}

// authenticate finds the requester behind the request's access token.
// With expiredOK an expired access token is accepted too.
func (s *Server) authenticate(r *http.Request, expiredOK bool) (*store.Requester, error) {
	tok, err := s.accessToken(r)
	if err != nil {
		return nil, err
	}
	if svc := s.appServiceByToken(tok); svc != nil {
		return s.appServiceRequester(r, svc)
	}
	if expiredOK {
		return s.devices.AuthenticateExpired(r.Context(), tok)
	}
	return s.devices.Authenticate(r.Context(), tok)
}

// optionalRequester returns the requester when the request has a token, nil when it
// has none, and an error for a bad one.
func (s *Server) optionalRequester(r *http.Request) (*store.Requester, error) {
	if !s.hasToken(r) {
		return nil, nil
	}
	return s.authenticate(r, false)
}

func (s *Server) hasToken(r *http.Request) bool {
	return len(r.Header.Values("Authorization")) > 0 ||
		(s.cfg.QueryToken && r.URL.Query().Has("access_token"))
}

// accessToken reads the token from "Authorization: Bearer" or, while enabled, from the
// access_token query parameter. Two tokens at once, several Authorization headers or
// another scheme are refused as M_MISSING_TOKEN, as Synapse does.
func (s *Server) accessToken(r *http.Request) (string, error) {
	headers := r.Header.Values("Authorization")
	var query string
	hasQuery := false
	if s.cfg.QueryToken {
		q := r.URL.Query()
		if len(q["access_token"]) > 1 {
			return "", mxerr.ErrMissingToken.Msg("send one access_token, not several")
		}
		query, hasQuery = q.Get("access_token"), q.Has("access_token")
	}

	switch {
	case len(headers) > 1:
		return "", mxerr.ErrMissingToken.Msg("send one Authorization header, not several")
	case len(headers) == 1 && hasQuery:
		return "", mxerr.ErrMissingToken.Msg("send the access token in the Authorization " +
			"header or the query string, not both")
	case len(headers) == 1:
		scheme, tok, ok := strings.Cut(strings.TrimSpace(headers[0]), " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return "", mxerr.ErrMissingToken.Msg("the Authorization header must be " +
				"\"Bearer <access token>\"")
		}
		return tok, nil
	case hasQuery && query != "":
		return query, nil
	}
	return "", mxerr.ErrMissingToken.Msg("this endpoint needs an access token")
}

// clientAddr is the address rate limits key on. Behind trusted proxies it is the
// right-most address of X-Forwarded-For that is not itself a trusted proxy: proxies
// append what they saw, so everything left of that is what the client chose to send.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}

	hops := forwardedFor(r)
	for s.trustedProxy(addr) && len(hops) > 0 {
		next, err := netip.ParseAddr(hops[len(hops)-1])
		if err != nil {
			break // a garbled entry: the last proxy we trust is the best we know
		}
		addr, hops = next.Unmap(), hops[:len(hops)-1]
	}
	return addr.String()
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// forwardedFor returns the entries of every X-Forwarded-For header, in order.
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for hop := range strings.SplitSeq(h, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				hops = append(hops, hop)
			}
		}
	}
	return hops
}

// rateLimited is the 429 answer with the wait in milliseconds.
func rateLimited(waitMS int64) error {
	return ratelimit.Exceeded(time.Duration(waitMS) * time.Millisecond)
}
