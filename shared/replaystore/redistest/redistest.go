// Package redistest runs a real redis-server on loopback for tests of the
// shared DPoP replay store. JWTGATE_REDIS_SERVER names the binary; `make
// test` installs Debian's redis-server and sets it, and tests skip with a
// message when it is unset.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/localrun"
)

// EnvServer names the redis-server binary.
const EnvServer = "JWTGATE_REDIS_SERVER"

// Server is one redis-server process on 127.0.0.1, without persistence.
type Server struct {
	t    testing.TB
	bin  string
	Port int
	proc *localrun.Proc
	tls  *tlsFiles // StartTLS
}

// Start starts a redis-server on a free loopback port, stopped when the
// test ends. It skips the test when JWTGATE_REDIS_SERVER is unset.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, port := serverAndPort(t)
	s := &Server{t: t, bin: bin, Port: port}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// serverAndPort is the redis-server binary (JWTGATE_REDIS_SERVER; the
// test skips without it) and a free loopback port for it.
func serverAndPort(t testing.TB) (string, int) {
	t.Helper()
	bin := os.Getenv(EnvServer)
	if bin == "" {
		t.Skip(EnvServer + " is unset (make test installs redis-server and sets it)")
	}
	port, err := localrun.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return bin, port
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the JWTGATE_REPLAY_STORE value for database db (rediss:// for
// StartTLS).
func (s *Server) URL(db int) string {
	scheme := "redis"
	if s.tls != nil {
		scheme = "rediss"
	}
	return fmt.Sprintf("%s://%s/%d", scheme, s.Addr(), db)
}

// Stop kills the server (as a crash would); a stopped server can Restart.
func (s *Server) Stop() {
	if s.proc != nil {
		_ = s.proc.Stop(nil, 0)
		s.proc = nil
	}
}

// Restart starts the server again on the same port and waits until it
// answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	args := append([]string{"--bind", "127.0.0.1"}, s.args()...)
	cmd := exec.Command(s.bin, append(args, "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning")...)
	p, err := localrun.Start(cmd)
	if err != nil {
		s.t.Fatalf("start %s: %v", s.bin, err)
	}
	s.proc = p
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.ping() {
			return
		}
		select {
		case <-p.Exited():
			s.t.Fatalf("redis-server exited: %v", p.Err())
		case <-ctx.Done():
			s.t.Fatal("redis-server did not answer PING within 15s")
		case <-tick.C:
		}
	}
}

func (s *Server) ping() bool {
	c, err := s.dial()
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}
