package models

// FeedShape is what a feed's recent rows carry, to suggest series and field
// names in forms.
type FeedShape struct {
	Series []string `json:"series"`
	Fields []string `json:"fields"`
}
