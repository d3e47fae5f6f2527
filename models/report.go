package models

// MonthReport is one SLO's calendar months: the chosen one in full and the
// twelve before it in brief.
type MonthReport struct {
	SLODetail
	Month     MonthAttainment
	Incidents []Annotation
	History   []MonthAttainment // oldest first, ending with the chosen month
	// Status is the SLO's status now, as every page shows it.
	Status SLOStatus
}
