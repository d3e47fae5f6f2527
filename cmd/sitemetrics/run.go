package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/sitemetrics/sitemetrics/handlers"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Set by the build: go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc123".
var (
	version = "dev"
	commit  = "unknown"
)

const usage = `Usage: sitemetrics <command> [flags]

Commands:
  serve [--demo]                         run the web app (applies migrations first)
  migrate                                apply database migrations and exit
  feed create --name N [--interval 5m] [--series-field F] [--time-field F]
                                         create a Splunk feed; prints its webhook URL once
  feed backfill --feed N [--chunk 1000] FILE
                                         post past results exported from Splunk (JSON, NDJSON or
                                         CSV) through the feed's ingest, so SLOs start with history
  token create --name N --role viewer|sre|admin
                                         create an API token; prints it once
  admin reset-password [--user admin] [--password-file FILE|-]
                                         give a local account a new password (from FILE, from
                                         standard input with -, or generated and printed once),
                                         ending its sessions; works while the app runs or not
  slo import [--dry-run] FILE            create or update services and SLOs from OpenSLO v1 YAML
                                         (--dry-run prints what would change, a diff per SLO)
  slo export                             print every service and SLO as OpenSLO v1 YAML
  config reference                       print the configuration reference (Markdown)
  version                                print version, commit and Go version

Every command takes the configuration flags; run "sitemetrics serve -h" to list them.
`

// buildVersion is the version and commit set by the build (make build), else
// what the Go toolchain recorded (go install …@v1.2.3, a git checkout).
func buildVersion() (string, string) {
	v, c := version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "unknown" && len(s.Value) >= 12 {
				c = s.Value[:12]
			}
		}
	}
	return v, c
}

// env carries what every command may use.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program; main only calls it. Standard input is the
// process's; runInput takes another (tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runInput(ctx, args, getenv, os.Stdin, stdout, stderr)
}

func runInput(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	sub := ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		sub = rest[0]
	}
	switch {
	case cmd == "serve":
		return e.serve(ctx, rest)
	case cmd == "migrate":
		return e.migrate(ctx, rest)
	case cmd == "version" || cmd == "--version":
		v, c := buildVersion()
		fmt.Fprintf(stdout, "sitemetrics %s (commit %s, %s %s/%s)\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case cmd == "feed" && sub == "create":
		return e.createFeed(ctx, rest[1:])
	case cmd == "feed" && sub == "backfill":
		return e.backfillFeed(ctx, rest[1:])
	case cmd == "token" && sub == "create":
		return e.createToken(ctx, rest[1:])
	case cmd == "admin" && sub == "reset-password":
		return e.resetPassword(ctx, rest[1:])
	case cmd == "slo" && (sub == "import" || sub == "export"):
		return e.slo(ctx, sub, rest[1:])
	case cmd == "config" && sub == "reference":
		fmt.Fprint(stdout, configReference())
		return nil
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", strings.TrimSpace(cmd+" "+sub))
}

// parse registers the configuration flags plus a command's own, parses args
// and loads the configuration.
func (e env) parse(name string, args []string, own func(fs *flag.FlagSet)) (*Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("sitemetrics "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if own != nil {
		own(fs)
	}
	setFlags := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(setFlags(), e.getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, fs, nil
}

func (e env) logger(cfg *Config) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(e.stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(e.stderr, opts)
	}
	return slog.New(handlers.LogHandler(h))
}

// openStore opens the database and applies pending migrations.
func (e env) openStore(ctx context.Context, cfg *Config, log *slog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	n, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("database migrated", "dialect", store.Dialect(), "applied", n)
	}
	return store, nil
}

func (e env) migrate(ctx context.Context, args []string) error {
	cfg, _, err := e.parse("migrate", args, nil)
	if err != nil {
		return err
	}
	log := e.logger(cfg)
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s database up to date (%d migration(s) applied)\n", store.Dialect(), n)
	return nil
}
