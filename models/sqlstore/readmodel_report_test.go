package sqlstore

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// Settings are loaded before their numbers are computed again: an SLO whose history was
// being derived when its numbers were computed does not show those numbers as the
// derived history's once the settings say the derivation is over.
func TestReportOfNumbersComputedDuringADerivation(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	during := &summary{Version: 3, At: now, Eval: models.Evaluation{Status: models.StatusHealthy},
		Rederiving: &models.Progress{Done: 10, Total: 40}}
	var derived models.SLODetail // the settings after the derivation: no pending generation
	r := reportFrom(derived, during, now)
	if r.Rederiving == nil || r.Rederiving.Done != 40 || r.Rederiving.Total != 40 || r.Eval.Status != models.StatusComputing {
		t.Errorf("numbers from the middle of a derivation, settings after it: rederiving %+v, status %q; want 40/40, computing", r.Rederiving, r.Eval.Status)
	}
	after := &summary{Version: 4, At: now, Eval: models.Evaluation{Status: models.StatusHealthy}}
	if r := reportFrom(derived, after, now); r.Rederiving != nil || r.Eval.Status != models.StatusHealthy {
		t.Errorf("numbers computed after the derivation: rederiving %+v, status %q; want none, healthy", r.Rederiving, r.Eval.Status)
	}
	pending := derived
	pending.Rederiving = &models.Progress{Done: 20, Total: 40}
	if r := reportFrom(pending, during, now); r.Rederiving == nil || r.Rederiving.Done != 20 || r.Eval.Status != models.StatusComputing {
		t.Errorf("a derivation still running: rederiving %+v, status %q; want 20/40, computing", r.Rederiving, r.Eval.Status)
	}
}
