package splunk

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sitemetrics/sitemetrics/models"
)

// Formats of a Splunk export file.
const (
	ExportCSV    = "csv"    // outputcsv, or Export → CSV in Splunk Web: a header row, then one row per line
	ExportJSON   = "json"   // search/jobs/{sid}/results?output_mode=json: {"results": [...]}, or a JSON array of rows
	ExportStream = "export" // search/jobs/export?output_mode=json, or Export → JSON: one {"result": …} per line
	ExportNDJSON = "ndjson" // one row object per line
)

// ReadExport reads the rows of a Splunk export file of past results, in order, as
// the row objects a webhook would carry (every value text, multivalue as a list), so
// that a backfill can post them in chunks through the normal ingest path. The
// format is detected from the content: JSON, NDJSON, the REST export stream or CSV.
// A UTF-8 byte-order mark is skipped; the export stream's preview lines are left out.
func ReadExport(data []byte) (rows []map[string]any, format string, err error) {
	data = trimBOM(data)
	if len(data) == 0 {
		return nil, "", models.Errorf(models.EINVALID, "the file is empty")
	}
	if data[0] != '{' && data[0] != '[' {
		rows, err := readCSV(data)
		return rows, ExportCSV, err
	}
	first, rest, err := decodeFirst(data)
	if err != nil {
		return nil, "", models.Errorf(models.EINVALID, "the file starts like JSON but does not parse: %v", err)
	}
	if len(rest) == 0 {
		switch v := first.(type) {
		case []any:
			rows, err := objects(v, "the JSON array")
			return rows, ExportJSON, err
		case map[string]any:
			if list, ok := v["results"].([]any); ok {
				rows, err := objects(list, `"results"`)
				return rows, ExportJSON, err
			}
		}
	}
	return readLines(data)
}

func objects(list []any, where string) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, models.Errorf(models.EINVALID, "%s: element %d is %s, not a row object", where, i, jsonKind(item))
		}
		out = append(out, m)
	}
	return out, nil
}

// readLines reads NDJSON rows or the export stream's lines.
func readLines(data []byte) ([]map[string]any, string, error) {
	format := ExportNDJSON
	var out []map[string]any
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = trimBOM(line)
		if len(line) == 0 {
			continue
		}
		v, rest, err := decodeFirst(line)
		if err != nil || len(rest) > 0 {
			return nil, "", models.Errorf(models.EINVALID, "line %d is not one JSON object (NDJSON or Splunk's export stream expected)", n+1)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, "", models.Errorf(models.EINVALID, "line %d is %s, not a row object", n+1, jsonKind(v))
		}
		if !isExportLine(obj) {
			out = append(out, obj)
			continue
		}
		format = ExportStream
		res, ok := obj["result"].(map[string]any)
		if obj["preview"] == true || !ok {
			continue // a preview of a running search, or a line without a row
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		return nil, "", models.Errorf(models.EINVALID, "the file holds no rows (an export stream of preview lines only is a search still running)")
	}
	return out, format, nil
}

// readCSV reads outputcsv's or Splunk Web's CSV: a header row of field names, then
// rows. Splunk writes a multivalue field as its values joined by newlines, with a
// __mv_<field> column beside it; those columns are left out, the values kept as a list.
func readCSV(data []byte) ([]map[string]any, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, models.Errorf(models.EINVALID, "the CSV header does not parse: %v", err)
	}
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			return nil, models.Errorf(models.EINVALID, "CSV column %d has no name in the header", i+1)
		}
	}
	var out []map[string]any
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, models.Errorf(models.EINVALID, "CSV row %d: %v", line-1, err)
		}
		row := make(map[string]any, len(rec))
		for i, v := range rec {
			name := header[i]
			if strings.HasPrefix(name, "__mv_") {
				continue
			}
			if strings.Contains(v, "\n") {
				var vals []any
				for _, x := range strings.Split(v, "\n") {
					vals = append(vals, x)
				}
				row[name] = vals
				continue
			}
			row[name] = v
		}
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.EINVALID, "the CSV has a header and no rows")
	}
	return out, nil
}

// BatchBody is rows as one {"results": [...]} delivery.
func BatchBody(rows []map[string]any) ([]byte, error) {
	b, err := json.Marshal(map[string]any{"results": rows})
	if err != nil {
		return nil, fmt.Errorf("encode rows: %w", err)
	}
	return b, nil
}
