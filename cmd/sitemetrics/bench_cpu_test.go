package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is the CPU time (user and system) spent so far by the app's process, by
// PostgreSQL's processes (those that exited included, and a streaming replica's when
// one runs: the make targets start none) and by this benchmark's own process, which makes the load.
type cpuUse struct{ app, pg, load time.Duration }

// postmasters are the postmaster of db and, when .ci/with-services started a streaming
// replica (SITEMETRICS_TEST_REPLICA_URL), the replica's, whose replay runs on the same
// cores.
func postmasters(db *sql.DB) ([]int, error) {
	pid, err := postmasterPID(db)
	if err != nil {
		return nil, err
	}
	out := []int{pid}
	if url := os.Getenv("SITEMETRICS_TEST_REPLICA_URL"); url != "" {
		rep, err := sql.Open("pgx", url)
		if err != nil {
			return nil, err
		}
		defer rep.Close()
		pid, err := postmasterPID(rep)
		if err != nil {
			return nil, fmt.Errorf("the streaming replica: %w", err)
		}
		out = append(out, pid)
	}
	return out, nil
}

// postmasterPID is the process id of the postmaster serving db, from the postmaster.pid
// file in its data directory (the benchmark runs on the same machine, as root).
func postmasterPID(db *sql.DB) (int, error) {
	var dir string
	if err := db.QueryRow("SHOW data_directory").Scan(&dir); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// userHZ is the unit of the times in /proc/PID/stat, fixed by Linux's ABI.
const userHZ = 100

// cpuNow reads cpuUse from /proc: the app is process appPID, PostgreSQL the postmasters
// given and their children. Another PostgreSQL on the machine is not counted: one shutting
// down when a run began (another test's) once made the PostgreSQL CPU of a COPY come out
// negative, its processes counted before and gone after.
func cpuNow(appPID int, postmasters []int) (cpuUse, error) {
	var u cpuUse
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return u, err
	}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile; PostgreSQL's parent counts its exited children
		}
		open, end := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if open < 0 || end < open {
			continue
		}
		comm, f := string(b[open+1:end]), strings.Fields(string(b[end+1:]))
		if len(f) < 15 {
			continue
		}
		ticks := int64(0)
		for _, k := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += n
		}
		spent := time.Duration(ticks) * time.Second / userHZ
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ppid, _ := strconv.Atoi(f[1])
		switch {
		case pid == appPID:
			u.app += spent
		case comm == "postgres" && (slices.Contains(postmasters, pid) || slices.Contains(postmasters, ppid)):
			u.pg += spent
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return u, err
	}
	u.load = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return u, nil
}

// cpuPer says how much CPU each spent between two readings, per 1,000 rows.
func cpuPer(before, after cpuUse, rows int64, withApp bool) string {
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)*1000/float64(rows))
	}
	s := fmt.Sprintf("PostgreSQL %s, load generator %s", per(after.pg-before.pg), per(after.load-before.load))
	if withApp {
		s = fmt.Sprintf("app %s, %s", per(after.app-before.app), s)
	}
	return s + " (CPU time per 1,000 rows)"
}
