package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

var (
	// versionGrammar is the form of a spec version: vX.Y, or rX.Y.Z for old ones.
	versionGrammar = regexp.MustCompile(`^(v[0-9]+\.[0-9]+|r[0-9]+\.[0-9]+\.[0-9]+)$`)
	// v113OrLater matches v1.13 and every later version.
	v113OrLater = regexp.MustCompile(
		`^v(1\.(1[3-9]|[2-9][0-9]|[1-9][0-9]{2,})|[2-9]\.[0-9]+|[1-9][0-9]+\.[0-9]+)$`)
)

// TestVersions checks GET /_matrix/client/versions, which must answer without a token
// and list v1.13 or later, every version in the spec's form.
func TestVersions(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	tests := []struct {
		name  string
		token string
	}{
		{name: "no token"},
		// The endpoint takes an optional token; a bad one must not break discovery.
		{name: "unknown token", token: "syt_bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, "GET", srv.URL+"/_matrix/client/versions",
				tt.token, nil)

			wantStatus(t, status, body, http.StatusOK)
			wantJSON(t, header)
			raw, ok := body["versions"].([]any)
			if !ok || len(raw) == 0 {
				t.Fatalf("versions %#v, want a non-empty array", body["versions"])
			}
			var versions []string
			for _, v := range raw {
				s, _ := v.(string)
				if !versionGrammar.MatchString(s) {
					t.Errorf("version %#v is not vX.Y or rX.Y.Z", v)
				}
				versions = append(versions, s)
			}
			if !slices.ContainsFunc(versions, v113OrLater.MatchString) {
				t.Errorf("versions %v, want v1.13 or later among them", versions)
			}
			if u, ok := body["unstable_features"]; ok {
				if _, isObj := u.(map[string]any); !isObj {
					t.Errorf("unstable_features %#v, want an object", u)
				}
			}
		})
	}
}

// TestWellKnown checks GET /.well-known/matrix/client: the public base URL, with CORS.
func TestWellKnown(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts []testserver.Option
		want func(srv *testserver.Server) string
	}{
		{
			name: "derived from the listener",
			want: func(srv *testserver.Server) string { return srv.URL + "/" },
		},
		{
			name: "configured, without a trailing slash",
			opts: []testserver.Option{testserver.WithConfig(func(c *config.Config) {
				c.PublicBaseURL = "https://matrix.example.org/base"
			})},
			want: func(*testserver.Server) string { return "https://matrix.example.org/base/" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, tt.opts...)

			status, header, body := do(t, "GET", srv.URL+"/.well-known/matrix/client", "", nil)

			wantStatus(t, status, body, http.StatusOK)
			wantJSON(t, header)
			if got := header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			homeserver, _ := body["m.homeserver"].(map[string]any)
			if want := tt.want(srv); homeserver["base_url"] != want {
				t.Errorf("m.homeserver %v, want base_url %s", body["m.homeserver"], want)
			}
		})
	}
}
