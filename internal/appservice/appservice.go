// Package appservice loads application-service registration files, in the YAML format
// Synapse and Dendrite read, and answers what the server asks of them: which service an
// as_token belongs to, and which user IDs a service claims, exclusively or not
// (https://spec.matrix.org/v1.13/application-service-api/#registration).
package appservice

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// Namespace is one regular expression of user IDs a service claims.
type Namespace struct {
	Exclusive bool   `yaml:"exclusive"`
	Regex     string `yaml:"regex"`
}

// Registration is a registration file. Keys this server has no use for (url, rooms,
// aliases, protocols) are read and kept but play no part.
type Registration struct {
	ID              string  `yaml:"id"`
	URL             *string `yaml:"url"`
	ASToken         string  `yaml:"as_token"`
	HSToken         string  `yaml:"hs_token"`
	SenderLocalpart string  `yaml:"sender_localpart"`
	RateLimited     *bool   `yaml:"rate_limited"`
	Namespaces      struct {
		Users   []Namespace `yaml:"users"`
		Aliases []Namespace `yaml:"aliases"`
		Rooms   []Namespace `yaml:"rooms"`
	} `yaml:"namespaces"`
	Protocols       []string `yaml:"protocols"`
	ReceiveEphemera bool     `yaml:"receive_ephemeral"`
	// MSC2409 spelled the key with a prefix; both spellings appear in the wild.
	ReceiveEphemeralMSC bool `yaml:"de.sorunome.msc2409.push_ephemeral"`
}

// Service is a loaded registration with its namespaces compiled.
type Service struct {
	Registration
	// Sender is the user ID the service acts as by default.
	Sender mxid.UserID
	users  []compiled
}

type compiled struct {
	re        *regexp.Regexp
	exclusive bool
}

// Registry holds every configured service.
type Registry struct {
	services []*Service
}

// Load reads the registration files, checking that every file has an id, an as_token
// and a sender_localpart, that ids and tokens are unique and that every regex compiles.
// All problems are reported at once.
func Load(serverName string, files []string) (*Registry, error) {
	r := &Registry{}
	var errs []error
	ids, tokens := map[string]string{}, map[string]string{}

	for _, f := range files {
		svc, err := loadFile(serverName, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := ids[svc.ID]; ok {
			errs = append(errs, fmt.Errorf("%s: id %q is also used by %s", f, svc.ID, prev))
		}
		if prev, ok := tokens[svc.ASToken]; ok {
			errs = append(errs, fmt.Errorf("%s: as_token is also used by %s", f, prev))
		}
		ids[svc.ID], tokens[svc.ASToken] = f, f
		r.services = append(r.services, svc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func loadFile(serverName, path string) (*Service, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read application service registration: %w", err)
	}
	var reg Registration
	if err := yaml.Unmarshal(data, &reg); err != nil {
		return nil, fmt.Errorf("application service registration %s: %w", path, err)
	}

	var errs []error
	if reg.ID == "" || reg.ASToken == "" || reg.SenderLocalpart == "" {
		errs = append(errs, fmt.Errorf("%s: id, as_token and sender_localpart are required",
			path))
	}
	svc := &Service{Registration: reg,
		Sender: mxid.NewUserID(reg.SenderLocalpart, serverName)}
	for i, ns := range reg.Namespaces.Users {
		re, err := regexp.Compile("^(?:" + ns.Regex + ")$")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: namespaces.users[%d].regex: %w", path, i,
				err))
			continue
		}
		svc.users = append(svc.users, compiled{re: re, exclusive: ns.Exclusive})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return svc, nil
}

// ByToken returns the service whose as_token is tok, or nil. Every token is compared in
// constant time.
func (r *Registry) ByToken(tok string) *Service {
	var found *Service
	for _, s := range r.services {
		if subtle.ConstantTimeCompare([]byte(s.ASToken), []byte(tok)) == 1 {
			found = s
		}
	}
	return found
}

// Services returns every configured service.
func (r *Registry) Services() []*Service { return r.services }

// ExclusiveOwner returns the service that claims user exclusively, or nil.
func (r *Registry) ExclusiveOwner(user mxid.UserID) *Service {
	for _, s := range r.services {
		for _, ns := range s.users {
			if ns.exclusive && ns.re.MatchString(string(user)) {
				return s
			}
		}
	}
	return nil
}

// Claims reports whether the service may act for user: its sender, or a user in one of
// its namespaces, exclusive or not.
func (s *Service) Claims(user mxid.UserID) bool {
	if user == s.Sender {
		return true
	}
	for _, ns := range s.users {
		if ns.re.MatchString(string(user)) {
			return true
		}
	}
	return false
}
