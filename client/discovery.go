package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// VersionsResponse is the answer of GET /_matrix/client/versions.
type VersionsResponse struct {
	// Versions are the spec versions the server implements, such as "v1.13".
	Versions []string `json:"versions"`
	// UnstableFeatures maps namespaced feature names to whether they are on.
	UnstableFeatures map[string]bool `json:"unstable_features,omitempty"`
}

// Supports reports whether the server lists the spec version v.
func (r *VersionsResponse) Supports(v string) bool {
	return slices.Contains(r.Versions, v)
}

// Versions returns the spec versions the server implements
// (https://spec.matrix.org/v1.13/client-server-api/#get_matrixclientversions). It sends
// the access token when the client has one, as the answer may differ for users.
func (c *Client) Versions(ctx context.Context) (*VersionsResponse, error) {
	var out VersionsResponse
	err := c.do(ctx, &request{method: "GET", path: "/_matrix/client/versions", authed: true,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ServerInfo is the base URL of a server in discovery information.
type ServerInfo struct {
	BaseURL string `json:"base_url"`
}

// DiscoveryInfo is the content of /.well-known/matrix/client, also sent as well_known
// in a login answer.
type DiscoveryInfo struct {
	Homeserver     ServerInfo  `json:"m.homeserver"`
	IdentityServer *ServerInfo `json:"m.identity_server,omitempty"`
	// Extra holds the other keys, such as "org.example.setting", undecoded.
	Extra map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the known keys into their fields and the others into Extra.
func (d *DiscoveryInfo) UnmarshalJSON(data []byte) error {
	type plain DiscoveryInfo
	var known plain
	if err := json.Unmarshal(data, &known); err != nil {
		return fmt.Errorf("decode discovery information: %w", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("decode discovery information: %w", err)
	}

	delete(all, "m.homeserver")
	delete(all, "m.identity_server")
	*d = DiscoveryInfo(known)
	if len(all) > 0 {
		d.Extra = all
	}
	return nil
}

// WellKnown fetches GET /.well-known/matrix/client from the client's base URL
// (https://spec.matrix.org/v1.13/client-server-api/#getwell-knownmatrixclient). To
// discover the homeserver of a user ID, make a Client whose BaseURL is
// "https://" + the user ID's server name without its port. A server without discovery
// information answers 404, which comes back as an *mxerr.Error with Status 404. An
// answer without m.homeserver.base_url fails.
func (c *Client) WellKnown(ctx context.Context) (*DiscoveryInfo, error) {
	var out DiscoveryInfo
	const path = "/.well-known/matrix/client"
	if err := c.do(ctx, &request{method: "GET", path: path, out: &out}); err != nil {
		return nil, err
	}
	if out.Homeserver.BaseURL == "" {
		return nil, fmt.Errorf("GET %s: the answer has no m.homeserver.base_url", path)
	}
	return &out, nil
}

// BooleanCapability is a capability that is on or off.
type BooleanCapability struct {
	Enabled bool `json:"enabled"`
}

// RoomVersionsCapability is the m.room_versions capability.
type RoomVersionsCapability struct {
	Default string `json:"default"`
	// Available maps room versions to "stable" or "unstable".
	Available map[string]string `json:"available"`
}

// Capabilities are what the server lets this user do
// (https://spec.matrix.org/v1.13/client-server-api/#capabilities-negotiation). A nil
// field is a capability the server did not mention; use the methods, which apply the
// spec's defaults.
type Capabilities struct {
	ChangePassword  *BooleanCapability      `json:"m.change_password,omitempty"`
	ThreePIDChanges *BooleanCapability      `json:"m.3pid_changes,omitempty"`
	GetLoginToken   *BooleanCapability      `json:"m.get_login_token,omitempty"`
	SetDisplayName  *BooleanCapability      `json:"m.set_displayname,omitempty"`
	SetAvatarURL    *BooleanCapability      `json:"m.set_avatar_url,omitempty"`
	RoomVersions    *RoomVersionsCapability `json:"m.room_versions,omitempty"`
	// Extra holds the other capabilities, undecoded.
	Extra map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the known capabilities into their fields and the others into
// Extra.
func (c *Capabilities) UnmarshalJSON(data []byte) error {
	type plain Capabilities
	var known plain
	if err := json.Unmarshal(data, &known); err != nil {
		return fmt.Errorf("decode capabilities: %w", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("decode capabilities: %w", err)
	}

	for _, k := range []string{"m.change_password", "m.3pid_changes", "m.get_login_token",
		"m.set_displayname", "m.set_avatar_url", "m.room_versions"} {
		delete(all, k)
	}
	*c = Capabilities(known)
	if len(all) > 0 {
		c.Extra = all
	}
	return nil
}

// CanChangePassword reports m.change_password, which is on when absent.
func (c *Capabilities) CanChangePassword() bool {
	return c.ChangePassword == nil || c.ChangePassword.Enabled
}

// CanChangeThreePIDs reports m.3pid_changes, which is on when absent. It covers adding
// and deleting 3PIDs on the homeserver, not identity-server bindings.
func (c *Capabilities) CanChangeThreePIDs() bool {
	return c.ThreePIDChanges == nil || c.ThreePIDChanges.Enabled
}

// CanGetLoginToken reports m.get_login_token, which is off when absent.
func (c *Capabilities) CanGetLoginToken() bool {
	return c.GetLoginToken != nil && c.GetLoginToken.Enabled
}

// CapabilitiesResponse is the answer of GET /capabilities.
type CapabilitiesResponse struct {
	Capabilities Capabilities `json:"capabilities"`
}

// Capabilities returns what the server lets the client's user do.
func (c *Client) Capabilities(ctx context.Context) (*CapabilitiesResponse, error) {
	var out CapabilitiesResponse
	err := c.do(ctx, &request{method: "GET", path: prefixV3 + "/capabilities", authed: true,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
