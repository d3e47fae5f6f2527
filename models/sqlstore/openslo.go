package sqlstore

import (
	"context"
	"fmt"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/openslo"
)

// ImportOpenSLO checks the whole plan first (services and feeds exist or are
// in the file, every SLO valid), then creates or updates by name.
func (s *Store) ImportOpenSLO(ctx context.Context, actor string, plan openslo.Plan) (created, updated int, err error) {
	services, err := s.Services(ctx)
	if err != nil {
		return 0, 0, err
	}
	feeds, err := s.Feeds(ctx)
	if err != nil {
		return 0, 0, err
	}
	haveService, haveFeed := map[string]int64{}, map[string]bool{}
	for _, x := range services {
		haveService[x.Name] = x.ID
	}
	for _, f := range feeds {
		haveFeed[f.Name] = true
	}
	inFile := map[string]bool{}
	for i := range plan.Services {
		if err := plan.Services[i].Validate(); err != nil {
			return 0, 0, err
		}
		inFile[plan.Services[i].Name] = true
	}
	for _, in := range plan.SLOs {
		if _, ok := haveService[in.Service]; !ok && !inFile[in.Service] {
			return 0, 0, &models.Error{Code: models.EINVALID, Field: "service", Message: fmt.Sprintf("SLO %q: service %q is neither in the file nor defined", in.Name, in.Service)}
		}
		if !haveFeed[in.Feed] {
			return 0, 0, &models.Error{Code: models.EINVALID, Field: "feed", Message: fmt.Sprintf("SLO %q: feed %q does not exist: create it first (sitemetrics feed create)", in.Name, in.Feed)}
		}
	}
	for _, in := range plan.Services {
		if id, ok := haveService[in.Name]; ok {
			_, err = s.UpdateService(ctx, actor, id, in)
		} else {
			_, err = s.CreateService(ctx, actor, in)
		}
		if err != nil {
			return created, updated, fmt.Errorf("service %s: %w", in.Name, err)
		}
	}
	for _, in := range plan.SLOs {
		existing, err := s.SLOByName(ctx, in.Name)
		switch {
		case err == nil:
			_, _, err = s.UpdateSLO(ctx, actor, existing.ID, in)
			updated++
		case models.ErrorCode(err) == models.ENOTFOUND:
			_, _, err = s.CreateSLO(ctx, actor, in)
			created++
		}
		if err != nil {
			return created, updated, fmt.Errorf("SLO %s: %w", in.Name, err)
		}
	}
	return created, updated, nil
}

// ExportOpenSLO writes every service and SLO as OpenSLO v1 documents.
func (s *Store) ExportOpenSLO(ctx context.Context) ([]byte, error) {
	services, err := s.Services(ctx)
	if err != nil {
		return nil, err
	}
	slos, err := s.SLOs(ctx)
	if err != nil {
		return nil, err
	}
	return openslo.Export(services, slos)
}
