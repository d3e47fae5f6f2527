-- +goose Up
-- OpenSLO files carry more than the numbers: display names, labels, annotations,
-- objectives' own names, several objectives per SLO, alert policies. They are kept
-- so that an export gives back what an import took (models/openslo).
ALTER TABLE services ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN labels TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN annotations TEXT NOT NULL DEFAULT '';
ALTER TABLE slos ADD COLUMN labels TEXT NOT NULL DEFAULT '';
ALTER TABLE slos ADD COLUMN annotations TEXT NOT NULL DEFAULT '';
ALTER TABLE slos ADD COLUMN objective_name TEXT NOT NULL DEFAULT '';
ALTER TABLE slos ADD COLUMN objective_of TEXT NOT NULL DEFAULT '';
ALTER TABLE slos ADD COLUMN objective_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE slos ADD COLUMN openslo TEXT NOT NULL DEFAULT '';

-- How the budget counts: '' = the indicator's own (ratio: occurrences, threshold:
-- timeslices). slice_target is OpenSLO's timeSliceTarget (a fraction; 0 = unused).
ALTER TABLE slo_bindings ADD COLUMN budgeting TEXT NOT NULL DEFAULT ''
    CHECK (budgeting IN ('', 'occurrences', 'timeslices'));
ALTER TABLE slo_bindings ADD COLUMN slice_target REAL NOT NULL DEFAULT 0
    CHECK (slice_target >= 0 AND slice_target <= 1);

-- AlertPolicy, AlertCondition and AlertNotificationTarget documents: parsed and kept,
-- not applied (Sitemetrics has no notification channels yet).
CREATE TABLE openslo_documents (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);

-- +goose Down
DROP TABLE openslo_documents;
ALTER TABLE slo_bindings DROP COLUMN slice_target;
ALTER TABLE slo_bindings DROP COLUMN budgeting;
ALTER TABLE slos DROP COLUMN openslo;
ALTER TABLE slos DROP COLUMN objective_index;
ALTER TABLE slos DROP COLUMN objective_of;
ALTER TABLE slos DROP COLUMN objective_name;
ALTER TABLE slos DROP COLUMN annotations;
ALTER TABLE slos DROP COLUMN labels;
ALTER TABLE services DROP COLUMN annotations;
ALTER TABLE services DROP COLUMN labels;
ALTER TABLE services DROP COLUMN display_name;
