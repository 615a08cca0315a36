package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// clientPrefixes are the versions every client endpoint answers under: v3, and r0 for
// the test suites and older clients that still use it.
var clientPrefixes = []string{"/_matrix/client/v3", "/_matrix/client/r0"}

// router is a ServeMux that answers unknown paths with 404 M_UNRECOGNIZED and known
// paths with a wrong method with 405 M_UNRECOGNIZED, both as JSON.
type router struct {
	mux   *http.ServeMux
	paths map[string]bool
}

func newRouter() *router {
	rt := &router{mux: http.NewServeMux(), paths: map[string]bool{}}
	rt.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, mxerr.ErrUnrecognized.Msg("unrecognised request: %s", r.URL.Path))
	}))
	return rt
}

// handle routes method and path to h. A method-less pattern on the same path catches
// the other methods, since ServeMux prefers the more specific pattern.
func (rt *router) handle(method, path string, h http.Handler) {
	rt.mux.Handle(method+" "+path, h)
	if !rt.paths[path] {
		rt.paths[path] = true
		rt.mux.Handle(path, http.HandlerFunc(methodNotAllowed))
	}
}

// client routes a client endpoint under every prefix in clientPrefixes.
func (rt *router) client(method, path string, h http.Handler) {
	for _, p := range clientPrefixes {
		rt.handle(method, p+path, h)
	}
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := rt.mux.Handler(r)
	requestInfo(r.Context()).route = pattern
	rt.mux.ServeHTTP(w, r)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	e := mxerr.ErrUnrecognized.Msg("method %s is not allowed on %s", r.Method, r.URL.Path)
	e.Status = http.StatusMethodNotAllowed
	writeError(w, r, e)
}
