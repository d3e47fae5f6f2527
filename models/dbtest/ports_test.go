package dbtest

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAddrBelowEphemeralPorts(t *testing.T) {
	low := ephemeralLow()
	seen := map[string]bool{}
	for range 200 {
		addr := FreeAddr(t)
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if port < firstFreePort || port >= low {
			t.Fatalf("%s is outside [%d, %d)", addr, firstFreePort, low)
		}
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		_ = l.Close()
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if port := busy.Addr().(*net.TCPAddr).Port; port < low {
		t.Errorf("the kernel gave port %d to a listener on port 0, below %d, which FreeAddr takes for its own", port, low)
	}
}
