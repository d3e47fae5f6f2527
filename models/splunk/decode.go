package splunk

import (
	"bytes"
	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeFirst decodes one JSON value into what encoding/json's Decoder with UseNumber
// gives (map[string]any, []any, json.Number, string, bool, nil; a repeated name's last
// value wins) and returns what follows it. It reads tokens with jsontext, in one pass
// and without encoding/json's reflection (BenchmarkParseBatch: 3.8–4.2 ms a 1,000-row
// delivery with encoding/json, 2.4–3.0 ms with this); a body it refuses is decoded
// again by encoding/json, whose message the answer quotes.
func decodeFirst(b []byte) (any, []byte, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true))
	v, err := (&valueDecoder{dec: dec}).value()
	if err != nil {
		return decodeFirstStd(b)
	}
	return v, bytes.TrimSpace(b[dec.InputOffset():]), nil
}

// decodeFirstStd is decodeFirst by encoding/json, for its error messages.
func decodeFirstStd(b []byte) (any, []byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, describeJSONError(err, dec.InputOffset())
	}
	return v, bytes.TrimSpace(b[dec.InputOffset():]), nil
}

// valueDecoder reads one value's tree, giving a field name repeated row after row
// one string.
type valueDecoder struct {
	dec   *jsontext.Decoder
	names map[string]string // made at the first name: an NDJSON line of a scalar needs none
}

func (d *valueDecoder) value() (any, error) {
	switch d.dec.PeekKind() {
	case '{':
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, err
		}
		obj := map[string]any{}
		for d.dec.PeekKind() != '}' {
			name, err := d.name()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			obj[name] = v
		}
		_, err := d.dec.ReadToken()
		return obj, err
	case '[':
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, err
		}
		list := []any{}
		for d.dec.PeekKind() != ']' {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := d.dec.ReadToken()
		return list, err
	case '"':
		raw, err := d.dec.ReadValue()
		if err != nil {
			return nil, err
		}
		return unquote(raw)
	case '0':
		raw, err := d.dec.ReadValue()
		return json.Number(raw), err
	}
	tok, err := d.dec.ReadToken()
	if err != nil || tok.Kind() == 'n' {
		return nil, err
	}
	return tok.Bool(), nil
}

// name reads an object's name, the same string each time it repeats.
func (d *valueDecoder) name() (string, error) {
	raw, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	if s, ok := d.names[string(raw)]; ok {
		return s, nil
	}
	s, err := unquote(raw)
	if err != nil {
		return "", err
	}
	if d.names == nil {
		d.names = map[string]string{}
	}
	if len(d.names) < maxFieldsInRow {
		d.names[string(raw)] = s
	}
	return s, nil
}

// unquote is a JSON string's text. An escape that makes no Unicode text (a lone
// surrogate) is an error, which sends the body to encoding/json.
func unquote(raw jsontext.Value) (string, error) {
	raw = bytes.TrimSpace(raw)
	if bytes.IndexByte(raw, '\\') < 0 && len(raw) >= 2 {
		return string(raw[1 : len(raw)-1]), nil
	}
	b, err := jsontext.AppendUnquote(nil, raw)
	return string(b), err
}
