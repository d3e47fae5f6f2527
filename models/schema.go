package models

// Schema lists every GORM model, for the test that keeps models and migrations in step.
func Schema() []any {
	return []any{&Feed{}, &FeedToken{}, &Delivery{}, &APIToken{}, &CachedCredential{}, &User{}, &Session{}, &LoginCounter{},
		&Service{}, &SLO{}, &Binding{}, &SLOTarget{}, &Maintenance{}, &Annotation{}, &AuditEntry{}, &KioskLink{}}
}
