package cloudflare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cloudflare/cloudflare-go/v6/dns"
	"github.com/cloudflare/cloudflare-go/v6/option"
)

// ErrZone means the API token sees no zone of the name asked for, or
// several.
var ErrZone = errors.New("cloudflare: zone not found")

// APIError is an error response of Cloudflare's API: an HTTP error status
// or an envelope with "success": false. It holds neither the request nor
// the token.
type APIError struct {
	// Op is what sendready asked for ("listing DNS records at mail.example.com").
	Op string
	// Zone is the zone the request was for.
	Zone string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Errors are the envelope's "errors" entries.
	Errors []APIMessage
}

// APIMessage is one entry of the "errors" list of an API response.
type APIMessage struct {
	// Code is Cloudflare's error code (9109: invalid access token).
	Code int64 `json:"code"`
	// Message is the API's explanation.
	Message string `json:"message"`
}

// Error names the request, the status and the API's messages, and for an
// authentication or permission error what the token needs.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cloudflare: %s: HTTP %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Errors) == 0 {
		b.WriteString(": the API reported no success")
	}
	for i, m := range e.Errors {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s (code %d)", sep, m.Message, m.Code)
	}
	if e.Auth() {
		fmt.Fprintf(&b, "; check the API token: it needs the Zone:Read and DNS:Edit permissions on the zone %s", e.Zone)
	}
	return b.String()
}

// Auth reports whether the API refused the token: a missing, invalid or
// expired token, or one without the permissions the request needs.
func (e *APIError) Auth() bool {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return true
	}
	for _, m := range e.Errors {
		switch m.Code {
		case 9103, 9106, 9109, 10000: // unknown key, missing headers, invalid token, authentication error
			return true
		}
	}
	return false
}

// envelope is the part of Cloudflare's response envelope that says whether
// a call succeeded.
type envelope struct {
	Success *bool        `json:"success"`
	Errors  []APIMessage `json:"errors"`
}

// inspector is a per-call SDK middleware that turns an error response into
// an APIError. The SDK's own error keeps the request, authorization header
// included; inspector lets the provider report errors without it, and
// catches "success": false on a 2xx status, which the SDK does not check.
type inspector struct {
	op, zone string
	err      *APIError
}

func (in *inspector) middleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	in.err = nil // a retry starts afresh
	res, err := next(req)
	if err != nil || res == nil || res.Body == nil {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	var env envelope
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); strings.Contains(mt, "json") {
		_ = json.Unmarshal(body, &env) // a body that is no envelope has no messages
	}
	if res.StatusCode >= 400 || (env.Success != nil && !*env.Success) {
		in.err = &APIError{Op: in.op, Zone: in.zone, StatusCode: res.StatusCode, Errors: env.Errors}
	}
	return res, nil
}

// do runs one SDK call, giving it the inspector middleware, and returns
// its error in sendready's terms, never with the token.
func (p *Provider) do(op, zone string, call func(opts ...option.RequestOption) error) error {
	in := &inspector{op: op, zone: zone}
	err := call(option.WithMiddleware(in.middleware))
	switch {
	case in.err != nil:
		return p.redact(in.err)
	case err == nil:
		return nil
	}
	var aerr *dns.Error
	if errors.As(err, &aerr) {
		// Not wrapped: the SDK's error holds the request and its token.
		return p.redact(&APIError{Op: op, Zone: zone, StatusCode: aerr.StatusCode})
	}
	return p.redact(fmt.Errorf("cloudflare: %s: %w", op, err))
}

// redactedError is an error whose text held the token.
type redactedError struct{ msg string }

func (e redactedError) Error() string { return e.msg }
