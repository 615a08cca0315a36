package httpapi

import (
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// clientPrefixes are the versions every client endpoint answers under: v3, and r0 for
// the test suites and older clients that still use it.
var clientPrefixes = []string{"/_matrix/client/v3", "/_matrix/client/r0"}

// router is a ServeMux that answers unknown paths with 404 M_UNRECOGNIZED and known
// paths with a wrong method with 405 M_UNRECOGNIZED, both as JSON.
type router struct {
	mux *http.ServeMux
	// methods lists the methods routed on each path, for the Allow header of a 405.
	methods map[string][]string
}

func newRouter() *router {
	rt := &router{mux: http.NewServeMux(), methods: map[string][]string{}}
	rt.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, mxerr.ErrUnrecognized.Msg("unrecognised request: %s", r.URL.Path))
	}))
	return rt
}

// handle routes method and path to h. A method-less pattern on the same path catches
// the other methods, since ServeMux prefers the more specific pattern.
func (rt *router) handle(method, path string, h http.Handler) {
	rt.mux.Handle(method+" "+path, h)
	if _, ok := rt.methods[path]; !ok {
		rt.mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			allowed := append(slices.Clone(rt.methods[path]), http.MethodOptions)
			if slices.Contains(allowed, http.MethodGet) {
				allowed = append(allowed, http.MethodHead)
			}
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			methodNotAllowed(w, r)
		}))
	}
	rt.methods[path] = append(rt.methods[path], method)
}

// client routes a client endpoint under every prefix in clientPrefixes.
func (rt *router) client(method, path string, h http.Handler) {
	for _, p := range clientPrefixes {
		rt.handle(method, p+path, h)
	}
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/") {
		// ServeMux would answer a redirect in HTML; no Matrix path has // . or ..
		writeError(w, r, mxerr.ErrUnrecognized.Msg("unrecognised request: %s", p))
		return
	}
	_, pattern := rt.mux.Handler(r)
	requestInfo(r.Context()).route = pattern
	rt.mux.ServeHTTP(w, r)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	e := mxerr.ErrUnrecognized.Msg("method %s is not allowed on %s", r.Method, r.URL.Path)
	e.Status = http.StatusMethodNotAllowed
	writeError(w, r, e)
}
