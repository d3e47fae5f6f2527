package main

import (
	"fmt"
	"os"
	"strings"
)

// statements shows where PostgreSQL's time goes while history is ingested, when
// SITEMETRICS_BENCH_STATEMENTS is set (make bench-scale STATEMENTS=1, which loads
// pg_stat_statements into the primary): start resets the statistics before the first
// round, and report records the statements that took most of the time, each with its
// share of the time of every statement the app ran in the rounds and the pauses between
// them (the COPY baseline's statements left out). The time is the statements' time on
// the server, waits included, not CPU. Without the setting both do nothing; with it and
// no pg_stat_statements the benchmark fails.
type statements struct {
	r  *scaleRun
	on bool
}

func (r *scaleRun) statements() statements {
	s := statements{r: r, on: os.Getenv("SITEMETRICS_BENCH_STATEMENTS") != ""}
	if !s.on {
		return s
	}
	if _, err := r.db.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		r.b.Fatalf("statements: %v", err)
	}
	if _, err := r.db.Exec("SELECT pg_stat_statements_reset()"); err != nil {
		r.b.Fatalf("statements: %v (is pg_stat_statements in shared_preload_libraries?)", err)
	}
	return s
}

// statementsShown is how many of the statements that took most time report shows.
const statementsShown = 8

func (s statements) report() {
	if !s.on {
		return
	}
	rows, err := s.r.db.Query(`SELECT calls, total_exec_time, query, sum(total_exec_time) OVER () FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query NOT LIKE '%bench_copy%' AND query NOT LIKE '%pg_stat_statements%'
		ORDER BY total_exec_time DESC LIMIT $1`, statementsShown)
	if err != nil {
		s.r.b.Fatalf("statements: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var calls int64
		var ms, all float64
		var q string
		if err := rows.Scan(&calls, &ms, &q, &all); err != nil {
			s.r.b.Fatalf("statements: %v", err)
		}
		q = strings.Join(strings.Fields(q), " ")
		if len(q) > 90 {
			q = q[:90] + "…"
		}
		lines = append(lines, fmt.Sprintf("%4.1f %% %6.0f ms %5d calls  %s", 100*ms/all, ms, calls, q))
	}
	if err := rows.Err(); err != nil {
		s.r.b.Fatalf("statements: %v", err)
	}
	s.r.say("PostgreSQL's statements while ingesting, most time first (pg_stat_statements):\n    %s", strings.Join(lines, "\n    "))
}
