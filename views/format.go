package views

import "strconv"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Itoa writes an id for a URL.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
