package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// tlsFiles are a TLS server's files: a throw-away CA and a certificate for
// 127.0.0.1 it signed.
type tlsFiles struct {
	ca, cert, key string
	pool          *x509.CertPool
}

// StartTLS is Start with TLS only (redis-server's tls-port; the plain port
// is off): URL gives rediss:// and CAFile the CA a client must trust.
func StartTLS(t testing.TB) *Server {
	t.Helper()
	bin, port := serverAndPort(t)
	files, err := writeTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, Port: port, tls: files}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// CAFile is the PEM file of the CA that signed a StartTLS server's
// certificate ("" for a plain server).
func (s *Server) CAFile() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.ca
}

// args are redis-server's listening arguments.
func (s *Server) args() []string {
	port := strconv.Itoa(s.Port)
	if s.tls == nil {
		return []string{"--port", port}
	}
	return []string{"--port", "0", "--tls-port", port, "--tls-cert-file", s.tls.cert, "--tls-key-file", s.tls.key,
		"--tls-ca-cert-file", s.tls.ca, "--tls-auth-clients", "no"}
}

// dial connects to the server as a client would (over TLS for StartTLS).
func (s *Server) dial() (net.Conn, error) {
	if s.tls == nil {
		return net.DialTimeout("tcp", s.Addr(), time.Second)
	}
	d := &net.Dialer{Timeout: time.Second}
	return tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{RootCAs: s.tls.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
}

func writeTLSFiles(dir string) (*tlsFiles, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jwtgate redistest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	f := &tlsFiles{ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "server.pem"), key: filepath.Join(dir, "server-key.pem"), pool: x509.NewCertPool()}
	f.pool.AddCert(ca)
	for path, block := range map[string]*pem.Block{
		f.ca: {Type: "CERTIFICATE", Bytes: caDER}, f.cert: {Type: "CERTIFICATE", Bytes: der}, f.key: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
	}
	return f, nil
}
