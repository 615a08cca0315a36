package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment override: MXACCOUNTS_DATABASE_URL
// overrides database.url.
const EnvPrefix = "MXACCOUNTS"

// Load returns the defaults, overlaid by the YAML file at path (when path is not empty)
// and then by environment variables from environ (KEY=VALUE strings, as os.Environ
// gives). Unknown keys in the file are errors. Load does not validate; call Validate.
func Load(path string, environ []string) (*Config, error) {
	cfg := Default()

	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		if err := decodeYAML(data, cfg); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}

	if err := applyEnv(cfg, environ); err != nil {
		return nil, err
	}
	return cfg, nil
}

func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if errors.Is(err, io.EOF) { // an empty file keeps the defaults
		return nil
	}
	return err
}

// applyEnv sets every field whose environment name is present in environ.
func applyEnv(cfg *Config, environ []string) error {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix+"_") {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}

	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), EnvPrefix, func(name string, f reflect.Value) {
		raw, ok := env[name]
		if !ok {
			return
		}
		if err := setFromString(f, raw); err != nil {
			errs = append(errs, fmt.Errorf("environment %s=%q: %w", name, raw, err))
		}
	})
	return errors.Join(errs...)
}

// walkFields calls fn for every leaf field below v with the environment name of its
// path, built from the yaml tags.
func walkFields(v reflect.Value, prefix string, fn func(name string, f reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			walkFields(f, name, fn)
			continue
		}
		fn(name, f)
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

// setFromString parses raw into f according to f's type; lists are comma-separated.
func setFromString(f reflect.Value, raw string) error {
	if f.Type() == durationType {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}

	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Uint8, reflect.Uint32:
		n, err := strconv.ParseUint(raw, 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetUint(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return err
		}
		f.SetFloat(n)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("a list of %s cannot be set from the environment; use the "+
				"config file", f.Type().Elem().Kind())
		}
		var items []string
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot set a %s from the environment", f.Kind())
	}
	return nil
}
