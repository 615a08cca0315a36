package httpapi

import (
	"net/http"
)

// specVersions are the spec versions this server implements in full, deprecated parts
// included (the access_token query parameter among them).
var specVersions = []string{
	"v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10",
	"v1.11", "v1.12", "v1.13",
}

// versions serves GET /_matrix/client/versions.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"versions":          specVersions,
		"unstable_features": map[string]bool{},
	})
	return nil
}

// wellKnown serves GET /.well-known/matrix/client.
func (s *Server) wellKnown(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.discovery())
	return nil
}

// discovery is the discovery object, also sent as well_known in login answers.
func (s *Server) discovery() map[string]any {
	return map[string]any{"m.homeserver": map[string]string{"base_url": s.cfg.PublicBaseURL}}
}
