package dbtest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FreeAddr returns 127.0.0.1:PORT, free now, for a server a test starts (or starts
// again) on a port it chose. The port is below the kernel's range of ephemeral ports:
// one from that range, once closed, can be given to any outgoing connection (a pooled
// database client's) or any listener on port 0 before the server binds it, which then
// fails with "address already in use" (an app under `make test` did). No port is
// handed out twice in a process.
func FreeAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	handedMu.Lock()
	defer handedMu.Unlock()
	for range 500 {
		port := firstFreePort + rand.IntN(low-firstFreePort)
		if handed[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // a server of .ci/with-services, or another program's
		}
		_ = l.Close()
		handed[port] = true
		return l.Addr().String()
	}
	t.Fatalf("no free port on 127.0.0.1 between %d and %d", firstFreePort, low)
	return ""
}

// firstFreePort is the lowest port FreeAddr hands out.
const firstFreePort = 10000

var (
	handedMu sync.Mutex
	handed   = map[int]bool{}
)

// ephemeralLow is the lowest port the kernel gives outgoing connections and listeners
// on port 0 (Linux's default where it cannot be read).
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > firstFreePort+1000 {
				return n
			}
		}
	}
	return 32768
}
