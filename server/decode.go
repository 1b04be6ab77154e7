package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/acme/aftersales/input"
)

const maxBodyBytes = 1 << 20

// decodeJSON decodes the request body into dst strictly: unknown fields,
// trailing data, wrong types and malformed JSON are 400 with field messages.
// The Content-Type is not checked: the body must be JSON whatever it says,
// and `curl -d` sends form-urlencoded by default.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeBody(body, dst)
}

// readBody reads a request body of at most maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, decodeError(err)
	}
	return body, nil
}

// decodeBody is decodeJSON over bytes already read (for handlers and
// Access loaders that look at the body first).
func decodeBody(body []byte, dst any) error {
	if len(body) > maxBodyBytes {
		return badRequest(map[string]string{"body": fmt.Sprintf("larger than %d bytes", maxBodyBytes)})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest(map[string]string{"body": "unexpected data after the JSON object"})
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		fieldName string
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequest(map[string]string{"body": "a JSON object is required"})
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(map[string]string{"body": "malformed JSON: " + err.Error()})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return badRequest(map[string]string{field: fmt.Sprintf("must be a %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)})
	case errors.As(err, &tooLarge):
		return badRequest(map[string]string{"body": fmt.Sprintf("larger than %d bytes", maxBodyBytes)})
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	if _, after, ok := strings.Cut(err.Error(), "unknown field "); ok {
		fieldName = strings.Trim(after, `"`)
		if input.ID(fieldName) != "" {
			// An odd name (empty, control characters): don't echo it as a key.
			return badRequest(map[string]string{"body": "unknown field"})
		}
		return badRequest(map[string]string{fieldName: "unknown field"})
	}
	// Errors from a field's UnmarshalJSON/UnmarshalText (e.g. a bad date).
	return badRequest(map[string]string{"body": err.Error()})
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	default:
		return "object"
	}
}
