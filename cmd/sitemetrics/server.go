package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newServer listens on cfg.Addr and returns the HTTP server for handler,
// bounded so that no client can exhaust the process: connections per client
// address and in total are capped at accept (the excess is closed at once,
// holding no file descriptor), requests in flight per client are capped
// (429 past it), and idle keep-alive connections close after
// http.idle_timeout. Connections from trusted proxies count in the total
// only: each carries many people.
func newServer(cfg *Config, handler http.Handler, reg prometheus.Registerer, log *slog.Logger) (*http.Server, net.Listener, error) {
	trusted, err := parseNets(cfg.TrustedProxies)
	if err != nil {
		return nil, nil, fmt.Errorf("SITEMETRICS_TRUSTED_PROXIES: %w", err)
	}
	limit, nofile := cfg.HTTP.MaxConnections, openFileLimit()
	if limit <= 0 {
		// The file descriptors left for connections: the rest go to the
		// database pool, the directory, the spool and the log.
		limit = max(int(nofile)-512, 64)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s (SITEMETRICS_ADDR): %w", cfg.Addr, err)
	}
	cl := &capListener{Listener: ln, total: limit, perClient: cfg.HTTP.MaxConnectionsPerClient, trusted: trusted, open: map[string]int{}, log: log}
	cl.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sitemetrics_http_connections_refused_total",
		Help: "Connections closed at accept because their client (per_client) or the server (total) was at its cap.",
	}, []string{"cap"})
	reg.MustRegister(cl.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sitemetrics_http_connections",
		Help: "Open HTTP connections.",
	}, func() float64 { return float64(cl.count()) }))
	log.Info("connection limits", "max_connections", limit, "open_file_limit", nofile,
		"max_connections_per_client", cfg.HTTP.MaxConnectionsPerClient, "max_requests_per_client", cfg.HTTP.MaxRequestsPerClient)
	srv := &http.Server{
		Handler:           limitRequests(handler, cfg.HTTP.MaxRequestsPerClient, trusted),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return srv, cl, nil
}

// openFileLimit is the process's limit on open files. Go raises the soft
// limit to the hard one when it starts (since Go 1.19), so this is as high
// as it can be without root.
func openFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return rl.Cur
}

// capListener closes, as soon as it accepts them, connections over the
// per-client or the total cap. It never blocks Accept: a blocked accept
// would leave new connections waiting in the kernel's queue until they
// time out, which is the outage it exists to prevent.
type capListener struct {
	net.Listener
	total, perClient int
	trusted          []*net.IPNet
	refused          *prometheus.CounterVec

	log *slog.Logger

	mu     sync.Mutex
	all    int
	open   map[string]int // per client address
	warned time.Time      // the last "at the cap" log line
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientAddr(c.RemoteAddr(), l.trusted)
		if capName := l.admit(key); capName != "" {
			l.refused.WithLabelValues(capName).Inc()
			l.warn(capName, key)
			_ = c.Close()
			continue
		}
		return &countedConn{Conn: c, l: l, key: key}, nil
	}
}

// warn logs a refusal, at most once a minute: a flood must not flood the log.
func (l *capListener) warn(capName, key string) {
	l.mu.Lock()
	now := time.Now()
	quiet := now.Sub(l.warned) < time.Minute
	if !quiet {
		l.warned = now
	}
	l.mu.Unlock()
	if !quiet {
		l.log.Warn("connections refused at the cap (logged once a minute; see sitemetrics_http_connections_refused_total)",
			"cap", capName, "client", key, "max_connections", l.total, "max_connections_per_client", l.perClient)
	}
}

// admit counts a new connection, or names the cap it would break.
func (l *capListener) admit(key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.all >= l.total:
		return "total"
	case key != "" && l.perClient > 0 && l.open[key] >= l.perClient:
		return "per_client"
	}
	l.all++
	if key != "" {
		l.open[key]++
	}
	return ""
}

func (l *capListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all--
	if key == "" {
		return
	}
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

func (l *capListener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all
}

// countedConn gives its slot back once, when closed.
type countedConn struct {
	net.Conn
	l    *capListener
	key  string
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// clientAddr is the IP a connection comes from, or "" for a trusted proxy,
// whose connections carry many clients and are capped in the total only.
func clientAddr(a net.Addr, trusted []*net.IPNet) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	for _, n := range trusted {
		if n.Contains(ta.IP) {
			return ""
		}
	}
	return ta.IP.String()
}

// limitRequests answers 429 to a client with max requests already in
// flight. The client is the connection's address, or behind a trusted
// proxy the nearest untrusted address in X-Forwarded-For. Webhook
// deliveries are not counted: Splunk never retries, so a 429 would lose
// the delivery, and a search head may well send many at once; the
// connection caps and the body limit bound them.
func limitRequests(next http.Handler, max int, trusted []*net.IPNet) http.Handler {
	if max <= 0 {
		return next
	}
	var mu sync.Mutex
	inFlight := map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hooks/") {
			next.ServeHTTP(w, r)
			return
		}
		key := requestClient(r, trusted)
		mu.Lock()
		if inFlight[key] >= max {
			mu.Unlock()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "Too many requests at once from your address.", http.StatusTooManyRequests)
			return
		}
		inFlight[key]++
		mu.Unlock()
		defer func() {
			mu.Lock()
			if inFlight[key]--; inFlight[key] <= 0 {
				delete(inFlight, key)
			}
			mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

func requestClient(r *http.Request, trusted []*net.IPNet) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !inNets(host, trusted) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		if h := strings.TrimSpace(hops[i]); h != "" && !inNets(h, trusted) {
			return h
		}
	}
	return host
}

func inNets(host string, nets []*net.IPNet) bool {
	ip := net.ParseIP(host)
	for _, n := range nets {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// parseNets reads IPs and CIDRs, an IP being a network of one.
func parseNets(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range list {
		if ip := net.ParseIP(p); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP nor a CIDR", p)
		}
		out = append(out, n)
	}
	return out, nil
}
