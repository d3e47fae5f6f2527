package models

import (
	"time"
)

// AuditEntry records one change: who, when, what, before and after.
type AuditEntry struct {
	ID       int64     `gorm:"primaryKey" json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"` // create, update, delete, revoke, …
	Entity   string    `json:"entity"` // service, slo, feed, maintenance, annotation, api_token, kiosk_link
	EntityID *int64    `json:"entity_id"`
	Summary  string    `json:"summary"`
	Before   string    `json:"before"` // JSON, "" when created
	After    string    `json:"after"`  // JSON, "" when deleted
}

// TableName keeps GORM on the migration's table.
func (AuditEntry) TableName() string { return "audit_log" }

// AuditQuery pages through the audit log, newest first.
type AuditQuery struct {
	Entity   string
	EntityID int64
	BeforeID int64
	Limit    int
}
